// Hostile and broken input against a real `vkllm serve`, over raw sockets. Every case must get
// its status (or a clean close), after every case a normal request must still be served, and at
// the end no slot may be left busy and the server must shut down cleanly.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, waitIdle } from './lib/server.js';
import { exchange, post, request } from './lib/raw.js';

let server;
const chat = (extra = {}) => ({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2, temperature: 0, ...extra });
const send = (bytes) => async (s) => { s.write(bytes); };

// name, bytes (or a writer), expected status, optional check of the parsed error body.
const cases = [
  ['truncated request line, then silence', send('GET /heal'), 408],
  ['garbage request line', send('HELLO WORLD\r\n\r\n'), 400],
  ['HTTP/2 request line', send('GET / HTTP/2.0\r\n\r\n'), 505],
  ['header line without colon', send('GET /health HTTP/1.1\r\nNoColon\r\n\r\n'), 400],
  ['malformed JSON', send(post('/v1/chat/completions', '{"messages": [}')), 400, /at byte \d+/],
  ['JSON array instead of object', send(post('/v1/chat/completions', '[1,2]')), 400, /JSON object/],
  ['empty body', send(post('/v1/chat/completions', '')), 400, /empty/],
  ['invalid UTF-8 in a string', send(post('/v1/chat/completions', Buffer.from('{"messages":[{"role":"user","content":"\xff\xfe"}]}', 'latin1'))), 400, /UTF-8/],
  ['overlong UTF-8 encoding', send(post('/v1/chat/completions', Buffer.from('{"model":"\xc0\xaf"}', 'latin1'))), 400, /UTF-8/],
  ['messages is a string', send(post('/v1/chat/completions', { messages: 'hi' })), 400, /'messages'/],
  ['temperature is a string', send(post('/v1/chat/completions', chat({ temperature: 'hot' }))), 400, /'temperature'/],
  ['negative max_tokens', send(post('/v1/chat/completions', chat({ max_tokens: -5 }))), 400, /'max_tokens'/],
  ['huge max_tokens', send(post('/v1/chat/completions', chat({ max_tokens: 1e12 }))), 400, /'max_tokens'/],
  ['fractional max_tokens', send(post('/v1/chat/completions', chat({ max_tokens: 5.5 }))), 400, /'max_tokens'/],
  ['unknown role', send(post('/v1/chat/completions', chat({ messages: [{ role: 'wizard', content: 'x' }] }))), 400, /messages\[0\]\.role/],
  ['missing messages', send(post('/v1/chat/completions', { max_tokens: 2 })), 400, /'messages'/],
  ['message is not an object', send(post('/v1/chat/completions', chat({ messages: [42] }))), 400, /messages\[0\]/],
  ['content is a number', send(post('/v1/chat/completions', chat({ messages: [{ role: 'user', content: 7 }] }))), 400, /content/],
  ['n = 2', send(post('/v1/chat/completions', chat({ n: 2 }))), 400, /'n'/],
  ['unknown model', send(post('/v1/chat/completions', chat({ model: 'gpt-17' }))), 404, /gpt-17/],
  ['top_logprobs too large', send(post('/v1/chat/completions', chat({ logprobs: true, top_logprobs: 50 }))), 400, /top_logprobs/],
  ['too many stop strings', send(post('/v1/chat/completions', chat({ stop: Array.from({ length: 100 }, (_, i) => `s${i}`) }))), 400, /'stop'/],
  ['logit_bias with a bad token id', send(post('/v1/chat/completions', chat({ logit_bias: { '-3': 1 } }))), 400, /logit_bias/],
  ['tools is not a list', send(post('/v1/chat/completions', chat({ tools: 'calc' }))), 400, /'tools'/],
  ['prompt longer than the context', send(post('/v1/completions', { prompt: Array.from({ length: 700 }, (_, i) => `w${i}`).join(' '), max_tokens: 2 })), 400, /prompt has \d+ tokens but the context holds 256/],
  ['completion prompt of bad token ids', send(post('/v1/completions', { prompt: [2, -1] })), 400, /prompt\[1\]/],
  ['20 MB body', async (s) => {
    s.write(request('POST', '/v1/chat/completions', undefined, { 'Content-Length': String(20 << 20) }));
    const mb = Buffer.alloc(1 << 20, 0x20);
    for (let i = 0; i < 20 && !s.destroyed; i++) { s.write(mb); await sleep(1); }
  }, 413],
  ['POST without Content-Length', send('POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\n\r\n{}'), 411],
  ['bad chunk size', send('POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), 400],
  ['Content-Length and Transfer-Encoding', send('POST /v1/completions HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'), 400],
  ['unsupported Transfer-Encoding', send('POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n'), 501],
  ['unknown route', send(request('GET', '/v2/everything')), 404],
  ['wrong method', send(request('DELETE', '/v1/models')), 405],
  ['headers of 40 KB', send(`GET /health HTTP/1.1\r\nX-Big: ${'a'.repeat(40000)}\r\n\r\n`), 431],
  ['slow body', send('POST /v1/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"prompt"'), 408],
  ['deeply nested JSON', send(post('/v1/chat/completions', '['.repeat(20000) + ']'.repeat(20000))), 400, /JSON object/],
  ['detokenize out-of-range id', send(post('/detokenize', { tokens: [1, 99999999] })), 400, /tokens\[1\]/],
  ['tokenize without content', send(post('/tokenize', { text: 'x' })), 400, /'content'/],
  ['apply-template with a bad role', send(post('/apply-template', { messages: [{ role: 'x', content: 'y' }] })), 400, /role/],
  ['chunked body with a valid request', send('POST /tokenize HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"co\r\nF\r\nntent":"hello"}\r\n0\r\n\r\n'), 200],
];

async function normalRequestWorks() {
  const { responses } = await exchange(server.port, send(post('/v1/chat/completions', chat())));
  assert.equal(responses[0]?.status, 200, `normal request failed: ${responses[0]?.body}`);
}

describe('bad input', () => {
  before(async () => {
    server = await startServer(['--parallel', '2', '--ctx', '256', '--max-body-bytes', '1048576',
      '--max-tokens-limit', '1024', '--read-timeout', '1']);
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, `server exit code ${code}\n${server.stderr()}`);
  });

  for (const [name, script, status, pattern] of cases) {
    it(`${name} -> ${status}`, async () => {
      const { responses } = await exchange(server.port, script, { timeoutMs: 8000 });
      assert.ok(responses.length >= 1, 'no response');
      const r = responses[0];
      assert.equal(r.status, status, r.body);
      if (status >= 400) {
        const err = JSON.parse(r.body).error;
        assert.equal(typeof err.message, 'string');
        assert.ok('type' in err && 'param' in err && 'code' in err);
        if (pattern) assert.match(err.message, pattern);
      }
      await normalRequestWorks();
    });
  }

  it('answers pipelined requests in order on one connection', async () => {
    const bytes = Buffer.concat([request('GET', '/health'), post('/tokenize', { content: 'a b' }), request('GET', '/nope'),
      post('/v1/completions', { prompt: 'x', max_tokens: 2, temperature: 0 })]);
    const { responses } = await exchange(server.port, send(bytes), { count: 4 });
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 404, 200]);
  });

  it('closes the connection after a framing error', async () => {
    const { responses, closed } = await exchange(server.port, send('BROKEN\r\n\r\nGET /health HTTP/1.1\r\n\r\n'), { count: 2, timeoutMs: 3000 });
    assert.equal(responses.length, 1);
    assert.equal(responses[0].status, 400);
    assert.ok(closed);
  });

  it('cancels a stream whose client disconnects', async () => {
    await exchange(server.port, async (s) => {
      s.write(post('/v1/chat/completions', chat({ stream: true, max_tokens: 200 })));
      await sleep(300);
    }, { timeoutMs: 1 });
    const h = await waitIdle(server.base);
    assert.equal(h.slots_busy, 0);
    await normalRequestWorks();
  });

  it('cancels a non-streaming request whose client disconnects', async () => {
    await exchange(server.port, async (s) => {
      s.write(post('/v1/completions', { prompt: 'Tell me everything', max_tokens: 200 }));
      await sleep(100);
    }, { timeoutMs: 1 });
    await waitIdle(server.base);
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    assert.match(metrics, /vkllm_requests_cancelled_total [1-9]/);
    await normalRequestWorks();
  });

  it('leaves no busy slot and no queued request', async () => {
    const h = await waitIdle(server.base);
    assert.equal(h.queue_depth, 0);
    assert.equal(h.slots_idle, h.slots_total);
  });
});
