// Raw-socket HTTP for the bad-input suite: sends bytes exactly as given (including malformed
// ones), parses whatever responses come back, and reports whether the server closed.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

// Parses complete responses at the start of `buf`; returns { responses, rest }.
export function parseResponses(buf) {
  const responses = [];
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n');
    if (headEnd < 0) break;
    const head = buf.subarray(0, headEnd).toString('latin1');
    const lines = head.split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    let pos = headEnd + 4;
    let body = Buffer.alloc(0);
    if (headers['transfer-encoding'] === 'chunked') {
      let complete = false;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', pos);
        if (lineEnd < 0) break;
        const size = parseInt(buf.subarray(pos, lineEnd).toString(), 16);
        if (buf.length < lineEnd + 2 + size + 2) break;
        body = Buffer.concat([body, buf.subarray(lineEnd + 2, lineEnd + 2 + size)]);
        pos = lineEnd + 2 + size + 2;
        if (size === 0) { complete = true; break; }
      }
      if (!complete) break;
    } else {
      const n = Number(headers['content-length'] ?? 0);
      if (buf.length < pos + n) break;
      body = buf.subarray(pos, pos + n);
      pos += n;
    }
    responses.push({ status, headers, body: body.toString('utf8') });
    buf = buf.subarray(pos);
  }
  return { responses, rest: buf };
}

// Connects, runs `script(socket)` (which writes), and collects until `count` responses arrived,
// the server closed, or `timeoutMs` passed.
export async function exchange(port, script, { count = 1, timeoutMs = 10000 } = {}) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});  // EPIPE/ECONNRESET after the server answered early
  let data = Buffer.alloc(0);
  let closed = false;
  socket.on('data', (d) => { data = Buffer.concat([data, d]); });
  socket.on('close', () => { closed = true; });
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  await script(socket);
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (parseResponses(data).responses.length >= count || closed) break;
    await sleep(10);
  }
  const { responses } = parseResponses(data);
  socket.destroy();
  return { responses, closed };
}

export function request(method, path, body, headers = {}) {
  const b = body === undefined ? Buffer.alloc(0) : (Buffer.isBuffer(body) ? body : Buffer.from(body));
  let head = `${method} ${path} HTTP/1.1\r\nHost: t\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (body !== undefined && !('Transfer-Encoding' in headers)) head += `Content-Length: ${b.length}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), b]);
}

export const post = (path, body, headers) => request('POST', path, typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), headers);
