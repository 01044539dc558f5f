/**
 * What serve writes before the final response, and the file responses that could fail after it:
 * no 1xx to an HTTP/1.0 client (it would take the 1xx for the final response), and a pathsend of
 * a file that cannot be opened is a 500, not a 200 head followed by a reset.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ASGIApp } from '../../src/index.js';
import { exchange, statuses } from '../support/raw.js';
import { bytes, closeServers, startServer } from '../support/serving.js';

afterEach(closeServers);

const hinting: ASGIApp = async (scope, _receive, send) => {
  if (scope.type !== 'http') return;
  await send({ type: 'http.response.early_hint', links: [bytes('</style.css>; rel=preload; as=style')] });
  await send({ type: 'http.response.start', status: 200, headers: [] });
  await send({ type: 'http.response.body', body: bytes('ok') });
};

test('early hints reach an HTTP/1.1 client as a 103 before the response', async () => {
  const server = await startServer(hinting);
  const reply = await exchange(server.port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
  expect(statuses(reply)).toEqual([103, 200]);
});

test('an HTTP/1.0 client gets no 103, only the final response', async () => {
  const server = await startServer(hinting);
  const reply = await exchange(server.port, 'GET / HTTP/1.0\r\nHost: t\r\n\r\n');
  expect(statuses(reply)).toEqual([200]);
  expect(reply.endsWith('ok')).toBe(true);
});

test('an HTTP/1.0 request that expects 100-continue gets no 100', async () => {
  const server = await startServer(async (scope, receive, send) => {
    if (scope.type !== 'http') return;
    let body = '';
    for (;;) {
      const message = await receive();
      if (message.type !== 'http.request') return;
      body += Buffer.from(message.body ?? new Uint8Array()).toString('latin1');
      if (message.more_body !== true) break;
    }
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: bytes(`got ${body}`) });
  });
  const reply = await exchange(server.port, 'POST / HTTP/1.0\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi');
  expect(statuses(reply)).toEqual([200]);
  expect(reply.endsWith('got hi')).toBe(true);
});

test('pathsend of a file that is not there is a 500, with nothing of a 200 written', async () => {
  const missing = join(mkdtempSync(join(tmpdir(), 'tsgi-')), 'missing.txt');
  const server = await startServer(async (scope, _receive, send) => {
    if (scope.type !== 'http') return;
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.pathsend', path: missing });
  });
  const reply = await exchange(server.port, 'GET / HTTP/1.1\r\nHost: t\r\n\r\n');
  expect(statuses(reply)).toEqual([500]);
  expect(server.lines.some((line) => line.includes('ENOENT'))).toBe(true);
});

test('pathsend of a file that is there sends it whole', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tsgi-')), 'hello.txt');
  writeFileSync(file, 'Hello, file!');
  const server = await startServer(async (scope, _receive, send) => {
    if (scope.type !== 'http') return;
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.pathsend', path: file });
  });
  const response = await fetch(`${server.url}/`);
  expect(response.status).toBe(200);
  expect(await response.text()).toBe('Hello, file!');
});
