// Starts `vkllm serve` on a free loopback port for a test file and stops it with SIGTERM,
// checking that it exits cleanly. VKLLM_BIN and VKLLM_MODEL come from CTest (or the caller).
import { spawn, execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
export const bin = process.env.VKLLM_BIN ?? path.join(root, 'build/vkllm');
export const model = process.env.VKLLM_MODEL ?? path.join(root, 'build/fixtures/models/tiny-dense-q8_0.gguf');

export async function startServer(extraArgs = []) {
  const args = ['serve', '-m', model, '--host', '127.0.0.1', '--port', '0', ...extraArgs];
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${stderr}`)), 60000);
    child.stderr.on('data', (d) => {
      stderr += d.toString();
      const m = stderr.match(/listening on http:\/\/[^:]+:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`vkllm serve exited ${code}:\n${stderr}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  // /health is 503 while the model loads.
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`${base}/health`);
      if (r.status === 200) break;
    } catch {}
    if (i > 1200) throw new Error(`model did not load:\n${stderr}`);
    await sleep(100);
  }
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    port,
    base,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGTERM');
      const timeout = sleep(15000).then(() => ({ code: 'timeout' }));
      const result = await Promise.race([exited, timeout]);
      if (result.code === 'timeout') child.kill('SIGKILL');
      return result;
    },
  };
}

// `vkllm run` output for the same prompt and settings (the reference for greedy equality).
export function runCli(args) {
  return execFileSync(bin, ['run', '-m', model, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

export async function health(base) {
  const r = await fetch(`${base}/health`);
  return r.json();
}

// Waits until no slot is busy: a cancelled request ends one engine step after its client left.
export async function waitIdle(base, timeoutMs = 20000) {
  const t0 = Date.now();
  for (;;) {
    const h = await health(base);
    if (h.slots_busy === 0) return h;
    if (Date.now() - t0 > timeoutMs) throw new Error(`slots still busy: ${JSON.stringify(h)}`);
    await sleep(20);
  }
}
