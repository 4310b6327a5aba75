// Aggregate generation throughput of `vkllm serve` at several concurrency levels:
//   node tests/server/e2e/bench.js [--model M] [--bin B] [--tokens N] [--levels 1,2,4,8]
//                                  [--out FILE.jsonl]
// Each level runs `level` concurrent streaming completions of N tokens (ignore_eos, greedy) and
// reports generated tokens / wall time, mean time to first token, and the server's own decode
// rate from /metrics. Prints a table and one JSON line per level.
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
const parallel = Math.max(...levels);

const { model } = await import('./lib/server.js');
const server = await startServer(['--parallel', String(parallel), '--ctx', String(Math.max(512, tokens + 128))]);

async function one(i) {
  const t0 = performance.now();
  const r = await fetch(`${server.base}/v1/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: `Benchmark request ${i}: tell a long story.`, max_tokens: tokens,
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
      if (ttft === null && j.choices?.[0]?.text) ttft = performance.now() - t0;
    }
  }
  return { ttft, completion: usage?.completion_tokens ?? 0 };
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
  console.log(JSON.stringify(row));
  if (arg('--out')) appendFileSync(arg('--out'), JSON.stringify({ ...row, command: process.argv.slice(1).join(' ') }) + '\n');
}
const metrics = await (await fetch(`${server.base}/metrics`)).text();
await server.stop();
console.log('\nconcurrency  tok/s (aggregate)  mean TTFT ms');
for (const r of rows) {
  console.log(`${String(r.concurrency).padStart(11)}  ${String(r.aggregate_tokens_per_second).padStart(17)}  ${String(r.mean_ttft_ms).padStart(12)}`);
}
console.log(metrics.split('\n').filter((l) => /^vkllm_(decode|prefill)_tokens_per_second/.test(l)).join('\n'));
