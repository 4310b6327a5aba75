// `vkllm serve` through the official openai client: chat and completions, streaming and not,
// usage, log-probs, stop strings, errors; greedy output equal to `vkllm run`, and 16 concurrent
// greedy streams that each get exactly their sequential text.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer, runCli, waitIdle, model } from './lib/server.js';

const modelId = model.split('/').pop().replace(/\.gguf$/, '');
let server;
let client;

async function chatText(content, extra = {}) {
  const r = await client.chat.completions.create({
    model: modelId, messages: [{ role: 'user', content }], temperature: 0, max_tokens: 12, ...extra,
  });
  return r;
}

async function streamText(content, extra = {}) {
  const stream = await client.chat.completions.create({
    model: modelId, messages: [{ role: 'user', content }], temperature: 0, max_tokens: 12, stream: true,
    stream_options: { include_usage: true }, ...extra,
  });
  let text = '';
  let reasoning = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    text += choice.delta.content ?? '';
    reasoning += choice.delta.reasoning_content ?? '';
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  return { text, reasoning, finish, usage, chunks };
}

describe('openai client', () => {
  before(async () => {
    server = await startServer(['--parallel', '4', '--ctx', '512', '--api-key', 'e2e-key']);
    client = new OpenAI({ baseURL: `${server.base}/v1`, apiKey: 'e2e-key', maxRetries: 0, timeout: 120000 });
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, `server exit code ${code}\n${server.stderr()}`);
  });

  it('lists the model', async () => {
    const list = await client.models.list();
    assert.equal(list.data[0].id, modelId);
  });

  it('answers a chat completion with usage', async () => {
    const r = await chatText('Hello, who are you?');
    assert.match(r.id, /^chatcmpl-/);
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
    assert.ok(r.usage.prompt_tokens > 5);
    assert.ok(r.usage.completion_tokens >= 1 && r.usage.completion_tokens <= 12);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  });

  it('streams the same text as the non-streaming answer', async () => {
    const whole = await chatText('Tell me a story');
    const s = await streamText('Tell me a story');
    const m = whole.choices[0].message;
    assert.equal(s.text, m.content ?? '');
    assert.equal(s.reasoning, m.reasoning_content ?? '');
    assert.equal(s.finish, whole.choices[0].finish_reason);
    assert.deepEqual(s.usage.completion_tokens, whole.usage.completion_tokens);
  });

  it('gives the same greedy text as vkllm run', async () => {
    const prompt = 'The capital of France is';
    const r = await client.completions.create({ model: modelId, prompt, max_tokens: 16, temperature: 0 });
    const cli = runCli(['-p', prompt, '-n', '16', '--temp', '0', '--ctx', '512']);
    assert.equal(r.choices[0].text, cli);
  });

  it('reuses a cached prompt prefix without changing the output', async () => {
    // Long enough to wrap the sliding-window layers' rings, so truncate() may keep less.
    const shared = Array.from({ length: 60 }, (_, i) => `item ${i}`).join(', ');
    const first = `${shared}. Now the first question:`;
    const second = `${shared}. Then a different question:`;
    await client.completions.create({ model: modelId, prompt: first, max_tokens: 8, temperature: 0 });
    const r = await client.completions.create({ model: modelId, prompt: second, max_tokens: 12, temperature: 0 });
    const cli = runCli(['-p', second, '-n', '12', '--temp', '0', '--ctx', '512']);
    assert.equal(r.choices[0].text, cli);
    assert.ok(r.usage.prompt_tokens_details.cached_tokens > 100, JSON.stringify(r.usage));
  });

  it('returns log-probs for chat and completions', async () => {
    const r = await chatText('Count to three', { logprobs: true, top_logprobs: 3, max_tokens: 5 });
    const content = r.choices[0].logprobs.content;
    assert.ok(content.length >= 1);
    for (const t of content) {
      assert.ok(t.logprob <= 0);
      assert.equal(t.top_logprobs.length, 3);
      assert.ok(t.top_logprobs[0].logprob >= t.logprob - 1e-4);
    }
    const c = await client.completions.create({ model: modelId, prompt: 'One two', max_tokens: 4, temperature: 0, logprobs: 2 });
    const lp = c.choices[0].logprobs;
    assert.equal(lp.tokens.length, lp.token_logprobs.length);
    assert.equal(lp.top_logprobs[0] && Object.keys(lp.top_logprobs[0]).length <= 2, true);
  });

  it('stops at a stop string', async () => {
    const prompt = 'Once upon a time';
    const base = await client.completions.create({ model: modelId, prompt, max_tokens: 24, temperature: 0 });
    const text = base.choices[0].text;
    if (text.length < 6) return; // the tiny model ended early: nothing to cut
    const stop = text.slice(3, 6);
    const cut = await client.completions.create({ model: modelId, prompt, max_tokens: 24, temperature: 0, stop: [stop] });
    assert.equal(cut.choices[0].text, text.slice(0, text.indexOf(stop)));
    assert.equal(cut.choices[0].finish_reason, 'stop');
  });

  it('maps errors to the client exceptions', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 404 && /no-such-model/.test(e.message));
    await assert.rejects(client.chat.completions.create({ model: modelId, n: 2, messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 400 && e.param === 'n');
    const bad = new OpenAI({ baseURL: `${server.base}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await assert.rejects(bad.models.list(), (e) => e.status === 401);
  });

  it('serves 16 concurrent greedy streams, each with its sequential text', async () => {
    const prompts = Array.from({ length: 16 }, (_, i) => `Request ${i}: write about the number ${i * 7}`);
    const sequential = [];
    for (const p of prompts) sequential.push(await streamText(p, { max_tokens: 10 }));
    const concurrent = await Promise.all(prompts.map((p) => streamText(p, { max_tokens: 10 })));
    for (let i = 0; i < prompts.length; i++) {
      assert.equal(concurrent[i].text, sequential[i].text, `client ${i}`);
      assert.equal(concurrent[i].reasoning, sequential[i].reasoning, `client ${i}`);
    }
    await waitIdle(server.base);
    const metrics = await (await fetch(`${server.base}/metrics`, { headers: { Authorization: 'Bearer e2e-key' } })).text();
    assert.match(metrics, /vkllm_decode_tokens_per_second [0-9.e+]+/);
    assert.match(metrics, /vkllm_time_to_first_token_seconds_count [1-9]/);
  });
});
