/**
 * The scope's byte fields (headers, raw_path, query_string) as serve builds them from node's raw
 * header list: views into a slab shared by small requests, so what one request's scope holds must
 * survive every later request; and the request body's framing read from the raw list, whatever
 * the case of the header names.
 */
import { jest } from '@jest/globals';
import type { HTTPScope } from '../../src/index.js';
import { bodyHead, isHeader } from '../../src/node/raw-headers.js';
import { closeServers, startServer } from '../support/serving.js';
import { rawConnect } from '../support/raw.js';

jest.setTimeout(60_000);
afterEach(closeServers);

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

test('scopes kept from earlier requests still hold their own bytes after many more (small and large heads)', async () => {
  const kept: HTTPScope[] = [];
  const server = await startServer(async (scope, _receive, send) => {
    kept.push(scope as HTTPScope);
    await send({ type: 'http.response.start', status: 204, headers: [] });
    await send({ type: 'http.response.body', body: new Uint8Array(0) });
  }, { validate: false });
  // Enough requests to fill several 64 KiB slabs; every 7th head is past the shared-slab size.
  const count = 400;
  for (let i = 0; i < count; i++) {
    const value = i % 7 === 0 ? `big-${i}-${'v'.repeat(5000)}` : `small-${i}-${'s'.repeat(i % 300)}`;
    const res = await fetch(`${server.url}/p/${i}?q=${i}`, { headers: { 'X-Value': value, 'X-Index': String(i) } });
    expect(res.status).toBe(204);
  }
  expect(kept).toHaveLength(count);
  kept.forEach((scope, i) => {
    const value = i % 7 === 0 ? `big-${i}-${'v'.repeat(5000)}` : `small-${i}-${'s'.repeat(i % 300)}`;
    const headers = new Map(scope.headers.map(([n, v]) => [text(n), text(v)]));
    expect(headers.get('x-value')).toBe(value);
    expect(headers.get('x-index')).toBe(String(i));
    expect(text(scope.raw_path!)).toBe(`/p/${i}`);
    expect(text(scope.query_string)).toBe(`q=${i}`);
  });
});

test('header names are lower-cased in the scope, values and latin-1 bytes kept as sent', async () => {
  let seen: HTTPScope | undefined;
  const server = await startServer(async (scope, _receive, send) => {
    seen = scope as HTTPScope;
    await send({ type: 'http.response.start', status: 204, headers: [] });
    await send({ type: 'http.response.body', body: new Uint8Array(0) });
  }, { validate: false });
  const conn = await rawConnect(server.port);
  conn.write(Buffer.from('GET /caf%C3%A9?x=%41 HTTP/1.1\r\nHost: a\r\nX-MiXeD-CaSe: \xe9t\xe9 Value\r\n\r\n', 'latin1'));
  await conn.until(/\r\n\r\n/, 10_000);
  conn.socket.destroy();
  const headers = seen!.headers.map(([n, v]) => [text(n), text(v)]);
  expect(headers).toContainEqual(['x-mixed-case', '\xe9t\xe9 Value']);
  expect(seen!.path).toBe('/café');
  expect(text(seen!.raw_path!)).toBe('/caf%C3%A9');
  expect(text(seen!.query_string)).toBe('x=%41');
});

test('a body announced with odd-cased Content-Length or Transfer-Encoding is read; none means an empty body at once', async () => {
  const bodies: string[] = [];
  const server = await startServer(async (_scope, receive, send) => {
    let body = '';
    for (;;) {
      const m = await receive();
      if (m.type !== 'http.request') break;
      body += Buffer.from(m.body ?? new Uint8Array(0)).toString();
      if (!m.more_body) break;
    }
    bodies.push(body);
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: Buffer.from(body) });
  }, { validate: false });
  const conn = await rawConnect(server.port);
  conn.write('POST / HTTP/1.1\r\nHost: a\r\ncOnTeNt-LeNgTh: 5\r\n\r\nhello');
  conn.write('POST / HTTP/1.1\r\nHost: a\r\nTRANSFER-ENCODING: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  conn.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await conn.until(/(HTTP\/1\.1 200[\s\S]*){3}/, 10_000);
  conn.socket.destroy();
  // Pipelined requests run concurrently: their apps may finish in any order.
  expect([...bodies].sort()).toEqual(['', 'abc', 'hello']);
});

test('isHeader and bodyHead read the raw list case-insensitively, first value wins', () => {
  expect(isHeader('Content-Length', 'content-length')).toBe(true);
  expect(isHeader('Content-Lengths', 'content-length')).toBe(false);
  expect(isHeader('Content_Length', 'content-length')).toBe(false);
  const out = { contentLength: 'stale', transferEncoding: true, expect: 'stale' } as Parameters<typeof bodyHead>[1];
  expect(bodyHead(['Host', 'a', 'EXPECT', '100-continue', 'content-LENGTH', '12', 'Content-Length', '13'], out))
    .toEqual({ contentLength: '12', transferEncoding: false, expect: '100-continue' });
  expect(bodyHead(['Transfer-Encoding', 'chunked'], out)).toEqual({ contentLength: undefined, transferEncoding: true, expect: undefined });
});
