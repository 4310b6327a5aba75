// `vkllm serve` with a TQ3 KV cache (--kv-k tq3 --kv-v tq3, issue #14): greedy text equal to
// `vkllm run` with the same cache, prefix reuse over TurboQuant blocks, and concurrent greedy
// streams (continuous batching) that each get their sequential text.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer, runCli, waitIdle, model } from './lib/server.js';

const modelId = model.split('/').pop().replace(/\.gguf$/, '');
const kv = ['--kv-k', 'tq3', '--kv-v', 'tq3'];
let server;
let client;

describe('TQ3 KV cache', () => {
  before(async () => {
    server = await startServer(['--parallel', '4', '--ctx', '512', ...kv]);
    client = new OpenAI({ baseURL: `${server.base}/v1`, apiKey: 'none', maxRetries: 0, timeout: 120000 });
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, `server exit code ${code}\n${server.stderr()}`);
  });

  it('gives the same greedy text as vkllm run with the same cache', async () => {
    const prompt = 'The capital of France is';
    const r = await client.completions.create({ model: modelId, prompt, max_tokens: 16, temperature: 0 });
    const cli = runCli(['-p', prompt, '-n', '16', '--temp', '0', '--ctx', '512', ...kv]);
    assert.equal(r.choices[0].text, cli);
  });

  it('reuses a cached prompt prefix held in TQ3 blocks', async () => {
    const shared = Array.from({ length: 60 }, (_, i) => `item ${i}`).join(', ');
    const first = `${shared}. Now the first question:`;
    const second = `${shared}. Then a different question:`;
    await client.completions.create({ model: modelId, prompt: first, max_tokens: 8, temperature: 0 });
    const r = await client.completions.create({ model: modelId, prompt: second, max_tokens: 12, temperature: 0 });
    const cli = runCli(['-p', second, '-n', '12', '--temp', '0', '--ctx', '512', ...kv]);
    assert.equal(r.choices[0].text, cli);
    assert.ok(r.usage.prompt_tokens_details.cached_tokens > 100, JSON.stringify(r.usage));
  });

  it('serves 4 concurrent greedy requests, each with its sequential text', async () => {
    const prompts = Array.from({ length: 4 }, (_, i) => `Request ${i}: write about the number ${i * 7}`);
    const ask = (p) => client.completions.create({ model: modelId, prompt: p, max_tokens: 10, temperature: 0 });
    const sequential = [];
    for (const p of prompts) sequential.push((await ask(p)).choices[0].text);
    const concurrent = await Promise.all(prompts.map(ask));
    for (let i = 0; i < prompts.length; i++) assert.equal(concurrent[i].choices[0].text, sequential[i], `client ${i}`);
    await waitIdle(server.base);
  });
});
