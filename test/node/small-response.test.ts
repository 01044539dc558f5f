/**
 * A small response sent whole (one `http.response.body`, nothing written before it) goes out in
 * a single socket write, its body handed to node:http as a latin-1 string. What must hold: every
 * byte value arrives unchanged, the framing is the one the bytes need, and the path is taken.
 * Raw sockets throughout.
 */
import { jest } from '@jest/globals';
import type { Socket } from 'node:net';
import type { ASGIApp, HTTPScope } from '../../src/index.js';
import { sleep } from '../support/asgi.js';
import { exchange, rawConnect, statuses } from '../support/raw.js';
import { bytes, closeServers, startServer } from '../support/serving.js';

jest.setTimeout(30_000);
afterEach(closeServers);

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

/** Bytes that are no simple pattern: a body cut, shifted or re-encoded anywhere shows. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** An app that answers each path with the body `bodyFor` gives, in one message. */
function answers(bodyFor: (path: string) => Uint8Array | Promise<Uint8Array>, headers: [string, string][] = []): ASGIApp {
  return async (scope, _receive, send) => {
    const body = await bodyFor((scope as HTTPScope).path);
    await send({ type: 'http.response.start', status: 200, headers: headers.map(([n, v]) => [bytes(n), bytes(v)]) });
    await send({ type: 'http.response.body', body });
  };
}

/** The responses in `text` (received as latin-1): each one's head and its content-length's worth of body. */
function responses(text: string): { head: string; body: Uint8Array }[] {
  const out: { head: string; body: Uint8Array }[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end === -1) throw new Error(`no end of head in ${JSON.stringify(text.slice(at))}`);
    const head = text.slice(at, end);
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]);
    const body = Buffer.from(text.slice(end + 4, end + 4 + length), 'latin1');
    out.push({ head, body: new Uint8Array(body) });
    at = end + 4 + length;
  }
  return out;
}

describe('a small body sent whole reaches the client byte for byte', () => {
  test.each([
    ['a Buffer', Buffer.from(ALL_BYTES)],
    ['a plain Uint8Array', ALL_BYTES],
    ['a view into the middle of a larger buffer', (() => {
      const backing = new Uint8Array(266).fill(0x78);
      backing.set(ALL_BYTES, 7);
      return backing.subarray(7, 263);
    })()],
  ])('all 256 byte values, from %s; keep-alive framing intact for the next request', async (_what, body) => {
    // The view's own bytes are what must go out, not its buffer's neighbours.
    expect(Array.from(body)).toEqual(Array.from(ALL_BYTES));
    const server = await startServer(answers(() => body));
    const conn = await rawConnect(server.port);
    conn.write(GET('/1') + GET('/2'));
    const text = await conn.until(/(HTTP\/1\.1 200[^]*){2}\xff$/, 10_000);
    expect(conn.closed()).toBe(false);
    conn.socket.destroy();
    const got = responses(text);
    expect(got).toHaveLength(2);
    for (const { head, body: received } of got) {
      expect(head).toMatch(/\r\ncontent-length: 256$|\r\ncontent-length: 256\r\n/i);
      expect(Array.from(received)).toEqual(Array.from(ALL_BYTES));
    }
  });

  test.each([1, 4095, 4096, 4097, 70_000])('a %i-byte body of arbitrary bytes, either side of the one-write limit', async (length) => {
    const body = noise(length, length);
    const server = await startServer(answers(() => body));
    const text = await exchange(server.port, GET('/', 'Connection: close\r\n'), 10_000);
    const [response] = responses(text);
    expect(response!.head).toMatch(new RegExp(`\\r\\ncontent-length: ${length}(\\r\\n|$)`, 'i'));
    expect(Buffer.from(response!.body).equals(Buffer.from(body))).toBe(true);
    expect(text.length).toBe(response!.head.length + 4 + length);
  });

  test('an app-declared content-length longer than the body: the body as sent, then the connection closes', async () => {
    const server = await startServer(answers((path) => bytes(`short ${path}`), [['content-length', '100']]));
    const text = await exchange(server.port, GET('/a') + GET('/b'), 10_000);
    expect(statuses(text)).toEqual([200]);
    expect(text.endsWith('\r\n\r\nshort /a')).toBe(true);
  });

  test('HEAD: the length the body would have had, and none of its bytes', async () => {
    const server = await startServer(answers(() => ALL_BYTES));
    const conn = await rawConnect(server.port);
    conn.write(`HEAD / HTTP/1.1\r\nHost: t\r\n\r\n${GET('/after')}`);
    const text = await conn.until(/(HTTP\/1\.1 200[^]*){2}\xff$/, 10_000);
    conn.socket.destroy();
    const [head, rest] = [text.slice(0, text.indexOf('\r\n\r\n') + 4), text.slice(text.indexOf('\r\n\r\n') + 4)];
    expect(head).toMatch(/\r\ncontent-length: 256\r\n/i);
    // What follows the HEAD response's head is the next response, not a body.
    expect(rest.startsWith('HTTP/1.1 200 ')).toBe(true);
    expect(Array.from(responses(rest)[0]!.body)).toEqual(Array.from(ALL_BYTES));
  });

  test.each([204, 304])('a %i with a body sent whole: none of the body on the wire, the next response intact', async (status) => {
    const server = await startServer(async (scope, _receive, send) => {
      const path = (scope as HTTPScope).path;
      await send({ type: 'http.response.start', status: path === '/first' ? status : 200, headers: [] });
      await send({ type: 'http.response.body', body: path === '/first' ? bytes('not to be sent') : ALL_BYTES });
    });
    const conn = await rawConnect(server.port);
    conn.write(GET('/first') + GET('/second'));
    const text = await conn.until(/(HTTP\/1\.1 [^]*){2}\xff$/, 10_000);
    conn.socket.destroy();
    expect(text).not.toContain('not to be sent');
    expect(statuses(text)).toEqual([status, 200]);
    const second = text.slice(text.indexOf('HTTP/1.1 200 '));
    expect(Array.from(responses(second)[0]!.body)).toEqual(Array.from(ALL_BYTES));
  });

  test('pipelined requests answered out of order (the second is ready first, before it has the socket): each body once, in request order', async () => {
    const server = await startServer(answers(async (path) => {
      if (path === '/slow') await sleep(200);
      return bytes(`body of ${path}`);
    }));
    const text = await exchange(server.port, GET('/slow') + GET('/fast') + GET('/last', 'Connection: close\r\n'), 10_000);
    expect(responses(text).map((r) => Buffer.from(r.body).toString('latin1'))).toEqual(['body of /slow', 'body of /fast', 'body of /last']);
  });
});

describe('the one-write path is taken', () => {
  /** Counts the socket-level writes of every connection the server accepts. */
  function countWrites(server: { server?: import('node:http').Server }): { write: number; writev: number } {
    const counts = { write: 0, writev: 0 };
    server.server!.on('connection', (socket: Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void }) => {
      const write = socket._write;
      const writev = socket._writev;
      socket._write = function (this: Socket, ...args: unknown[]) {
        counts.write += 1;
        return write.apply(this, args);
      };
      socket._writev = function (this: Socket, ...args: unknown[]) {
        counts.writev += 1;
        return writev.apply(this, args);
      };
    });
    return counts;
  }

  test('a small response sent whole is one plain socket write, with no writev', async () => {
    const server = await startServer(answers(() => bytes('Hello, world!')));
    const counts = countWrites(server);
    const conn = await rawConnect(server.port);
    conn.write(GET('/'));
    await conn.until(/Hello, world!$/, 10_000);
    conn.write(GET('/'));
    await conn.until(/(Hello, world![^]*){2}$/, 10_000);
    conn.socket.destroy();
    expect(counts).toEqual({ write: 2, writev: 0 });
  });

  test('a large one still goes out as head and body pieces (the body is not copied into a string)', async () => {
    const server = await startServer(answers(() => noise(70_000, 1)));
    const counts = countWrites(server);
    const text = await exchange(server.port, GET('/', 'Connection: close\r\n'), 10_000);
    expect(responses(text)[0]!.body.length).toBe(70_000);
    expect(counts.writev).toBe(1);
  });
});
