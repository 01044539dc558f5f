/**
 * `limits` and `timeouts`: what the server refuses, with which status, and that the connection
 * really closes. Raw sockets, validation off.
 */
import { jest } from '@jest/globals';
import { ClientDisconnect, type ASGIApp, type HTTPScope } from '../../src/index.js';
import { sleep, within } from '../support/asgi.js';
import { exchange, rawConnect, statuses } from '../support/raw.js';
import { bytes, closeServers, startServer } from '../support/serving.js';

jest.setTimeout(30_000);
afterEach(closeServers);

let calls = 0;
beforeEach(() => { calls = 0; });

/** Reads the whole body, then answers with its length. */
const echoLength: ASGIApp = async (_scope, receive, send) => {
  calls += 1;
  let length = 0;
  for (;;) {
    const message = await receive();
    if (message.type !== 'http.request') return;
    length += message.body?.length ?? 0;
    if (message.more_body !== true) break;
  }
  await send({ type: 'http.response.start', status: 200, headers: [] });
  await send({ type: 'http.response.body', body: bytes(`got ${length}`) });
};

const GET = (path = '/', extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

describe('limits.maxBodySize', () => {
  test('a declared content-length over it: 413 before the app is called, and the connection closes', async () => {
    const server = await startServer(echoLength, { limits: { maxBodySize: 1000 } });
    const text = await exchange(server.port, `POST / HTTP/1.1\r\nHost: t\r\ncontent-length: 1001\r\n\r\n${'a'.repeat(1001)}`);
    expect(statuses(text)).toEqual([413]);
    expect(text).toMatch(/connection: close/i);
    expect(calls).toBe(0);
  });

  test('at the limit, the body goes through', async () => {
    const server = await startServer(echoLength, { limits: { maxBodySize: 1000 } });
    const text = await exchange(server.port, `POST / HTTP/1.1\r\nHost: t\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n${'a'.repeat(1000)}`);
    expect(statuses(text)).toEqual([200]);
    expect(text.endsWith('got 1000')).toBe(true);
  });

  test('a chunked body that crosses it: 413 when the response has not started, and the app\'s next receive() is http.disconnect', async () => {
    const seen: string[] = [];
    let raised: unknown;
    const server = await startServer(async (_scope, receive, send) => {
      for (;;) {
        const message = await receive();
        seen.push(message.type);
        if (message.type !== 'http.request' || message.more_body !== true) break;
      }
      try {
        await send({ type: 'http.response.start', status: 200, headers: [] });
      } catch (error) {
        raised = error;
      }
    }, { limits: { maxBodySize: 1000 } });
    const conn = await rawConnect(server.port);
    conn.write('POST / HTTP/1.1\r\nHost: t\r\ntransfer-encoding: chunked\r\n\r\n');
    conn.write(`258\r\n${'a'.repeat(600)}\r\n`);
    await sleep(100);
    conn.write(`258\r\n${'b'.repeat(600)}\r\n`);
    const text = await conn.whenClosed(5000);
    expect(statuses(text)).toEqual([413]);
    await within(2000, (async () => { while (seen.at(-1) !== 'http.disconnect') await sleep(5); })());
    expect(seen[0]).toBe('http.request');
    expect(raised).toBeInstanceOf(ClientDisconnect);
    expect(server.lines.filter((l) => l.startsWith('error'))).toEqual([]);
  });
  test('a chunked body that crosses it after the response started: the connection is cut, never passed off as complete', async () => {
    let heard: string | undefined;
    const server = await startServer(async (_scope, receive, send) => {
      await send({ type: 'http.response.start', status: 200, headers: [] });
      await send({ type: 'http.response.body', body: bytes('streaming '), more_body: true });
      for (;;) {
        const message = await receive();
        if (message.type === 'http.disconnect') { heard = message.type; return; }
        if (message.type !== 'http.request' || message.more_body !== true) break;
      }
    }, { limits: { maxBodySize: 1000 } });
    const conn = await rawConnect(server.port);
    conn.write('POST / HTTP/1.1\r\nHost: t\r\ntransfer-encoding: chunked\r\n\r\n');
    await conn.until(/streaming /);
    conn.write(`4b0\r\n${'a'.repeat(1200)}\r\n`);
    const text = await conn.whenClosed(5000);
    expect(statuses(text)).toEqual([200]);
    expect(text).not.toMatch(/\r\n0\r\n\r\n$/); // no terminating chunk: the client knows it was cut
    await within(2000, (async () => { while (heard === undefined) await sleep(5); })());
  });
});

describe('limits.maxHeaders and limits.maxHeaderSize', () => {
  const headers = (n: number) => Array.from({ length: n }, (_, i) => `x-h${i}: ${i}\r\n`).join('');

  test('100 headers by default are served; 101 get 431 and a close, never a silent truncation', async () => {
    const server = await startServer(echoLength);
    const ok = await exchange(server.port, `GET / HTTP/1.1\r\nHost: t\r\nconnection: close\r\n${headers(98)}\r\n`);
    expect(statuses(ok)).toEqual([200]);
    const over = await exchange(server.port, `GET / HTTP/1.1\r\nHost: t\r\n${headers(100)}\r\n`);
    expect(statuses(over)).toEqual([431]);
    expect(over).toMatch(/connection: close/i);
    expect(calls).toBe(1);
  });

  test('well past node\'s own count (2000 headers) still 431', async () => {
    const server = await startServer(echoLength, { limits: { maxHeaderSize: 1024 * 1024 } });
    const text = await exchange(server.port, `GET / HTTP/1.1\r\nHost: t\r\n${headers(2000)}\r\n`);
    expect(statuses(text)).toEqual([431]);
    expect(calls).toBe(0);
  });

  test('a custom maxHeaders', async () => {
    const server = await startServer(echoLength, { limits: { maxHeaders: 5 } });
    expect(statuses(await exchange(server.port, `GET / HTTP/1.1\r\nHost: t\r\nconnection: close\r\n${headers(3)}\r\n`))).toEqual([200]);
    expect(statuses(await exchange(server.port, `GET / HTTP/1.1\r\nHost: t\r\n${headers(5)}\r\n`))).toEqual([431]);
  });

  test('a head over 16 KiB by default: 431 and a close', async () => {
    const server = await startServer(echoLength);
    const text = await exchange(server.port, `GET / HTTP/1.1\r\nHost: t\r\nx-big: ${'b'.repeat(17 * 1024)}\r\n\r\n`);
    expect(statuses(text)).toEqual([431]);
    expect(calls).toBe(0);
  });

  test('a custom maxHeaderSize', async () => {
    const server = await startServer(echoLength, { limits: { maxHeaderSize: 1024 } });
    expect(statuses(await exchange(server.port, `GET / HTTP/1.1\r\nHost: t\r\nx-big: ${'b'.repeat(2048)}\r\n\r\n`))).toEqual([431]);
  });
});

describe('limits.maxConcurrency', () => {
  test('a request beyond that many app calls in flight gets 503; once one settles, requests are served again', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const server = await startServer(async (scope, receive, send) => {
      if ((scope as HTTPScope).path === '/hold') await held;
      await echoLength(scope, receive, send);
    }, { limits: { maxConcurrency: 1 } });
    const holding = exchange(server.port, GET('/hold', 'connection: close\r\n'));
    await sleep(100);
    const refused = await exchange(server.port, GET('/', 'connection: close\r\n'));
    expect(statuses(refused)).toEqual([503]);
    release();
    expect(statuses(await holding)).toEqual([200]);
    expect(statuses(await exchange(server.port, GET('/', 'connection: close\r\n')))).toEqual([200]);
  });
});

describe('timeouts', () => {
  test('timeouts.headers: a head that never completes gets 408 and a close', async () => {
    const server = await startServer(echoLength, { timeouts: { headers: 300 } });
    const conn = await rawConnect(server.port);
    conn.write('GET / HTTP/1.1\r\nHost: t\r\n');
    const t0 = Date.now();
    const text = await conn.whenClosed(5000);
    expect(statuses(text)).toEqual([408]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(calls).toBe(0);
  });

  test('timeouts.request: a body that stops arriving gets 408 and a close; the app hears http.disconnect', async () => {
    let heard: string | undefined;
    const server = await startServer(async (_scope, receive) => {
      for (;;) {
        const message = await receive();
        if (message.type === 'http.disconnect') { heard = message.type; return; }
      }
    }, { timeouts: { request: 500, headers: 300 } });
    const conn = await rawConnect(server.port);
    conn.write('POST / HTTP/1.1\r\nHost: t\r\ncontent-length: 10\r\n\r\nab');
    const text = await conn.whenClosed(5000);
    expect(statuses(text)).toEqual([408]);
    await within(2000, (async () => { while (heard === undefined) await sleep(5); })());
  });

  test('timeouts.keepAlive: an idle keep-alive connection is closed after it', async () => {
    const server = await startServer(echoLength, { timeouts: { keepAlive: 300 } });
    const conn = await rawConnect(server.port);
    conn.write(GET());
    await conn.until(/got 0$/);
    const t0 = Date.now();
    await conn.whenClosed(5000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
  });

  test('timeouts.write: a response stuck on a client that reads nothing is cut, and the app\'s send raises ClientDisconnect', async () => {
    let raised: unknown;
    let sent = 0;
    const server = await startServer(async (_scope, _receive, send) => {
      await send({ type: 'http.response.start', status: 200, headers: [] });
      try {
        for (;;) {
          await send({ type: 'http.response.body', body: new Uint8Array(64 * 1024), more_body: true });
          sent += 1;
        }
      } catch (error) {
        raised = error;
      }
    }, { timeouts: { write: 300 } });
    const conn = await rawConnect(server.port);
    conn.socket.pause(); // reads nothing
    conn.write(GET());
    await within(10_000, (async () => { while (raised === undefined) await sleep(20); })(), 'the app hearing the client is gone');
    expect(raised).toBeInstanceOf(ClientDisconnect);
    expect(sent).toBeLessThan(2000); // stopped by backpressure, not by running through a large body
    conn.socket.destroy();
  });

  test('timeouts.write does not cut an app that is slow to answer', async () => {
    const server = await startServer(async (scope, receive, send) => {
      await sleep(700);
      await echoLength(scope, receive, send);
    }, { timeouts: { write: 200 } });
    const text = await exchange(server.port, GET('/', 'connection: close\r\n'));
    expect(statuses(text)).toEqual([200]);
  });
});
