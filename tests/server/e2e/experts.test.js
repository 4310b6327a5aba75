// `vkllm serve` streaming a MoE model's experts under a small --vram-budget (issue #15): eight
// concurrent greedy requests all complete, each with the text it gets alone and the text the
// all-resident `vkllm run` gives; /metrics reports the expert cache, and every slot is idle
// afterwards.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import OpenAI from 'openai';
import { startServer, runCli, waitIdle, model, bin } from './lib/server.js';

const modelId = model.split('/').pop().replace(/\.gguf$/, '');
const plan = ['--parallel', '8', '--ctx', '256'];
let server;
let client;
let budget;

// A budget with room for two experts in every MoE layer: the plan's total less the experts plus
// two slot rows, read from `vkllm info`.
function twoSlotBudget() {
  const info = execFileSync(bin, ['info', model, ...plan], { encoding: 'utf8' });
  const total = Number(info.match(/^ {2}total +([\d.]+) MiB$/m)[1]);
  const ex = info.match(/experts: \d+ in \d+ layers \(([\d.]+) MiB; one in every layer ([\d.]+) MiB\)/);
  assert.ok(ex, info);
  const mib = total - Number(ex[1]) + 2 * Number(ex[2]) + 0.05;
  return Math.round(mib * 1024 * 1024);  // bytes
}

async function metrics() {
  const text = await (await fetch(`${server.base}/metrics`)).text();
  const value = (name) => {
    const m = text.match(new RegExp(`^${name} ([\\d.e+-]+)$`, 'm'));
    assert.ok(m, `${name} missing from /metrics`);
    return Number(m[1]);
  };
  return value;
}

describe('streamed MoE experts', () => {
  before(async () => {
    budget = String(twoSlotBudget());
    server = await startServer([...plan, '--vram-budget', budget]);
    client = new OpenAI({ baseURL: `${server.base}/v1`, apiKey: 'none', maxRetries: 0, timeout: 300000 });
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, `server exit code ${code}\n${server.stderr()}`);
  });

  it('serves 8 concurrent requests with the sequential and resident text', async () => {
    const prompts = Array.from({ length: 8 }, (_, i) => `Request ${i}: the story of ${i * 13} apples`);
    const ask = (p) => client.completions.create({ model: modelId, prompt: p, max_tokens: 8, temperature: 0 });
    const sequential = [];
    for (const p of prompts) sequential.push((await ask(p)).choices[0].text);
    const concurrent = await Promise.all(prompts.map(ask));
    for (let i = 0; i < prompts.length; i++) {
      assert.equal(concurrent[i].choices[0].text, sequential[i], `client ${i}`);
      assert.equal(concurrent[i].choices[0].finish_reason, 'length', `client ${i}`);
    }
    // All experts resident (no budget): the same greedy text.
    for (const i of [0, 5]) {
      assert.equal(sequential[i], runCli(['-p', prompts[i], '-n', '8', '--temp', '0', '--ctx', '256']), `prompt ${i}`);
    }
    const h = await waitIdle(server.base);
    assert.equal(h.slots_busy, 0);
  });

  it('reports the expert cache on /metrics', async () => {
    const value = await metrics();
    const slots = value('vkllm_expert_cache_slots_per_layer');
    assert.ok(slots >= 1 && slots < 8, `slots per layer ${slots}`);
    assert.ok(value('vkllm_expert_lookups_total') > 0);
    assert.ok(value('vkllm_expert_uploads_total') > 0);
    assert.ok(value('vkllm_expert_upload_bytes_total') > 0);
    const hits = value('vkllm_expert_cache_hits_total');
    assert.ok(hits <= value('vkllm_expert_lookups_total'));
    const ratio = value('vkllm_expert_cache_hit_ratio');
    assert.ok(ratio >= 0 && ratio <= 1, `hit ratio ${ratio}`);
  });
});
