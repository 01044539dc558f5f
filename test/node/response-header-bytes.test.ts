/**
 * Response header names and values reach the wire byte for byte, whatever kind of Uint8Array the
 * app holds them in: a Buffer, a plain array (TextEncoder output), a view into a larger buffer.
 * Raw sockets.
 */
import { jest } from '@jest/globals';
import type { ASGIApp } from '../../src/index.js';
import { exchange } from '../support/raw.js';
import { closeServers, startServer } from '../support/serving.js';

jest.setTimeout(30_000);
afterEach(closeServers);

// Every byte a field value may hold: tab, visible ASCII and space, and obs-text (0x80–0xff).
const VALUE = Uint8Array.from([0x09, ...Array.from({ length: 0x7f - 0x20 }, (_, i) => 0x20 + i), ...Array.from({ length: 0x80 }, (_, i) => 0x80 + i)]);
const NAME = new TextEncoder().encode('x-every-byte');

function inTheMiddle(bytes: Uint8Array): Uint8Array {
  const backing = new Uint8Array(bytes.length + 10).fill(0x21);
  backing.set(bytes, 5);
  return backing.subarray(5, 5 + bytes.length);
}

test.each([
  ['Buffers', (b: Uint8Array) => Buffer.from(b)],
  ['plain Uint8Arrays', (b: Uint8Array) => Uint8Array.from(b)],
  ['views into the middle of larger buffers', inTheMiddle],
  ['short plain Uint8Arrays', (b: Uint8Array) => Uint8Array.from(b.subarray(0, 3))],
])('a header name and value given as %s arrive unchanged', async (_what, make) => {
  const value = make(VALUE);
  const app: ASGIApp = async (_scope, _receive, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [[make(NAME), value]] });
    await send({ type: 'http.response.body', body: new Uint8Array() });
  };
  const server = await startServer(app);
  const text = await exchange(server.port, 'GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', 10_000);
  const expected = `\r\n${Buffer.from(make(NAME)).toString('latin1')}: ${Buffer.from(value).toString('latin1')}\r\n`;
  expect(text).toContain(expected);
});
