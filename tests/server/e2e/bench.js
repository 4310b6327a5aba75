// Aggregate generation throughput of `vkllm serve` at several concurrency levels:
//   node tests/server/e2e/bench.js [--model M] [--bin B] [--tokens N] [--levels 1,2,4,8]
//                                  [--out FILE.jsonl]
// Each level runs `level` concurrent streaming completions of N tokens (ignore_eos, greedy) and
// reports generated tokens / wall time, mean time to first token, and the server's own decode
// rate from /metrics. Prints a table and one JSON line per level.
//
// --gap-prompt P adds the inter-token gap figure of issue #11: 3 slots stream while a 4th
// request brings a P-token prompt, prefilled in chunks inside the same steps as their decode
// tokens. Reports the streams' inter-token gaps before and during that prefill (ms) and how many
// tokens they received meanwhile; --prefill-chunk C passes the chunk size to the server.
import { appendFileSync } from 'node:fs';
import { startServer } from './lib/server.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
if (arg('--model')) process.env.VKLLM_MODEL = arg('--model');
if (arg('--bin')) process.env.VKLLM_BIN = arg('--bin');
const tokens = Number(arg('--tokens', '64'));
const levels = arg('--levels', '1,2,4,8').split(',').map(Number);
const gapPrompt = Number(arg('--gap-prompt', '0'));
const parallel = Math.max(...levels, gapPrompt ? 4 : 1);
const ctx = Math.max(512, tokens + 128, gapPrompt ? gapPrompt + 4 * tokens + 256 : 0);
const serverArgs = ['--parallel', String(parallel), '--ctx', String(ctx)];
if (arg('--prefill-chunk')) serverArgs.push('--prefill-chunk', arg('--prefill-chunk'));

const { model } = await import('./lib/server.js');
const server = await startServer(serverArgs);
const record = (row) => {
  console.log(JSON.stringify(row));
  if (arg('--out')) appendFileSync(arg('--out'), JSON.stringify({ ...row, command: process.argv.slice(1).join(' ') }) + '\n');
};

// One streaming completion; `times` (if given) receives the arrival time of every token.
async function one(i, { prompt = `Benchmark request ${i}: tell a long story.`, maxTokens = tokens, times = null } = {}) {
  const t0 = performance.now();
  const r = await fetch(`${server.base}/v1/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt, max_tokens: maxTokens,
      temperature: 0, ignore_eos: true, stream: true, stream_options: { include_usage: true } }),
  });
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let ttft = null;
  let buf = '';
  let usage = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let at;
    while ((at = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(6, at);
      buf = buf.slice(at + 2);
      if (ev === '[DONE]') continue;
      const j = JSON.parse(ev);
      if (j.usage) usage = j.usage;
      if (j.choices?.[0]?.text) {
        const now = performance.now();
        if (ttft === null) ttft = now - t0;
        if (times) times.push(now);
      }
    }
  }
  return { t0, ttft, completion: usage?.completion_tokens ?? 0, prompt_tokens: usage?.prompt_tokens ?? 0 };
}

const rows = [];
await one(-1);  // warm-up: pipelines compiled, caches filled
for (const level of levels) {
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: level }, (_, i) => one(i)));
  const seconds = (performance.now() - t0) / 1000;
  const generated = results.reduce((a, r) => a + r.completion, 0);
  const row = {
    bench: 'serve', model, concurrency: level, tokens_per_request: tokens, generated,
    seconds: Number(seconds.toFixed(3)),
    aggregate_tokens_per_second: Number((generated / seconds).toFixed(2)),
    mean_ttft_ms: Number((results.reduce((a, r) => a + (r.ttft ?? 0), 0) / level).toFixed(1)),
  };
  rows.push(row);
  record(row);
}

if (gapPrompt) {
  // Three streams long enough to outlast the prefill; the long prompt arrives once each has
  // its first tokens.
  const streamTokens = 4 * tokens;
  const times = [[], [], []];
  const streams = times.map((t, i) => one(100 + i, { maxTokens: streamTokens, times: t }));
  while (times.some((t) => t.length < 4)) await new Promise((r) => setTimeout(r, 5));
  const longStart = performance.now();
  const long = await one(200, { prompt: ' story'.repeat(gapPrompt), maxTokens: 1 });
  const prefillEnd = long.t0 + long.ttft;
  await Promise.all(streams);
  const before = [], during = [];
  let received = 0;
  for (const t of times) {
    for (let k = 1; k < t.length; k++) {
      const gap = t[k] - t[k - 1];
      if (t[k] <= longStart) before.push(gap);
      else if (t[k - 1] < prefillEnd) during.push(gap);
    }
    received += t.filter((x) => x > longStart && x <= prefillEnd).length;
  }
  const mean = (a) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
  const row = {
    bench: 'serve_gap', model, prompt_tokens: long.prompt_tokens,
    prefill_chunk: Number(arg('--prefill-chunk', '512')), streams: 3,
    prefill_ms: Number((prefillEnd - longStart).toFixed(1)),
    gap_before_mean_ms: Number(mean(before).toFixed(1)),
    gap_during_mean_ms: Number(mean(during).toFixed(1)),
    gap_during_max_ms: Number(Math.max(0, ...during).toFixed(1)),
    stream_tokens_during_prefill: received,
  };
  record(row);
}
const metrics = await (await fetch(`${server.base}/metrics`)).text();
await server.stop();
console.log('\nconcurrency  tok/s (aggregate)  mean TTFT ms');
for (const r of rows) {
  console.log(`${String(r.concurrency).padStart(11)}  ${String(r.aggregate_tokens_per_second).padStart(17)}  ${String(r.mean_ttft_ms).padStart(12)}`);
}
console.log(metrics.split('\n').filter((l) => /^vkllm_(decode|prefill)_tokens_per_second/.test(l)).join('\n'));
