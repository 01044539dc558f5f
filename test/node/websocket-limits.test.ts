/**
 * A WebSocket upgrade gets what a plain request gets from serve: proxy headers from a trusted
 * peer, the header-count and concurrency limits, and a unix socket's `scope.server`. Over real
 * sockets: `ws` as the client, raw node:net where the refusal's bytes matter.
 */
import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { ASGIApp, WebSocketScope } from '../../src/index.js';
import { serve, type ServerHandle } from '../../src/node/index.js';
import { within } from '../support/asgi.js';
import { exchange, rawConnect, statuses } from '../support/raw.js';

jest.setTimeout(30_000);

let handle: ServerHandle | undefined;
const clients: WebSocket[] = [];
let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'tsgi-ws-limits-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await handle?.close();
  handle = undefined;
});

const quiet = { error: () => {}, warn: () => {}, info: () => {} };

/** An app that records each WebSocket scope, accepts, and holds the connection until the client leaves. */
function recorder() {
  const scopes: WebSocketScope[] = [];
  const app: ASGIApp = async (scope, receive, send) => {
    if (scope.type === 'http') {
      await send({ type: 'http.response.start', status: 200, headers: [] });
      await send({ type: 'http.response.body', body: new TextEncoder().encode('ok') });
      return;
    }
    if (scope.type !== 'websocket') return;
    scopes.push(scope as WebSocketScope);
    await receive(); // websocket.connect
    await send({ type: 'websocket.accept' });
    while ((await receive()).type !== 'websocket.disconnect');
  };
  return { app, scopes };
}

async function start(app: ASGIApp, options: Parameters<typeof serve>[1] = {}) {
  handle = await serve(app, { port: 0, signals: false, validate: false, logger: quiet, ...options });
  return handle;
}

/** Opens a client; resolves once open, or rejects with the status of the response that refused it. */
function open(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url, [], options);
    clients.push(client);
    client.once('open', () => resolve(client));
    client.once('unexpected-response', (_req, res: IncomingMessage) => {
      res.resume();
      reject(Object.assign(new Error(`refused: ${res.statusCode}`), { status: res.statusCode }));
    });
    client.once('error', reject);
  });
}

function upgradeRequest(extraHeaders: number): string {
  let text = 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
    + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
  for (let i = 0; i < extraHeaders; i++) text += `X-Extra-${i}: ${i}\r\n`;
  return `${text}\r\n`;
}

describe('proxyHeaders on an upgrade', () => {
  test('from a trusted peer: the client address is the forwarded one and the scheme is wss', async () => {
    const { app, scopes } = recorder();
    const server = await start(app, { proxyHeaders: true });
    await within(10_000, open(`ws://127.0.0.1:${server.port}/ws`, { headers: { 'X-Forwarded-For': '203.0.113.7:4711', 'X-Forwarded-Proto': 'https' } }), 'the handshake');
    expect(scopes[0]?.client).toEqual(['203.0.113.7', 4711]);
    expect(scopes[0]?.scheme).toBe('wss');
  });

  test('RFC 7239 Forwarded from a trusted peer is honoured too', async () => {
    const { app, scopes } = recorder();
    const server = await start(app, { proxyHeaders: true });
    await within(10_000, open(`ws://127.0.0.1:${server.port}/ws`, { headers: { Forwarded: 'for=198.51.100.2;proto=https' } }), 'the handshake');
    expect(scopes[0]?.client).toEqual(['198.51.100.2', 0]);
    expect(scopes[0]?.scheme).toBe('wss');
  });

  test('from an untrusted peer the headers change nothing', async () => {
    const { app, scopes } = recorder();
    const server = await start(app, { proxyHeaders: true, forwardedAllowIps: ['10.0.0.0/8'] });
    await within(10_000, open(`ws://127.0.0.1:${server.port}/ws`, { headers: { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https' } }), 'the handshake');
    expect(scopes[0]?.client?.[0]).toBe('127.0.0.1');
    expect(scopes[0]?.scheme).toBe('ws');
  });
});

describe('limits.maxHeaders on an upgrade', () => {
  test('one header over the limit: 431 on the raw socket, the connection closed, the app never called', async () => {
    const { app, scopes } = recorder();
    const server = await start(app, { limits: { maxHeaders: 10 } });
    // Five headers of the handshake plus six extra: eleven.
    const text = await exchange(server.port, upgradeRequest(6), 10_000);
    expect(statuses(text)).toEqual([431]);
    expect(text).toMatch(/\r\nconnection: close\r\n/i);
    expect(scopes).toHaveLength(0);
  });

  test('far past node\'s own truncation (2000 headers): still 431, never a 101', async () => {
    const { app, scopes } = recorder();
    const server = await start(app, { limits: { maxHeaders: 100, maxHeaderSize: 1 << 20 } });
    const text = await exchange(server.port, upgradeRequest(2000), 10_000);
    expect(statuses(text)).toEqual([431]);
    expect(scopes).toHaveLength(0);
  });

  test('at the limit the handshake completes', async () => {
    const { app, scopes } = recorder();
    const server = await start(app, { limits: { maxHeaders: 10 } });
    const conn = await rawConnect(server.port);
    try {
      conn.write(upgradeRequest(5));
      expect(await conn.until(/\r\n\r\n/, 10_000)).toMatch(/^HTTP\/1\.1 101 /);
      expect(scopes).toHaveLength(1);
    } finally {
      conn.socket.destroy();
    }
  });
});

describe('limits.maxConcurrency and upgrades', () => {
  test('an upgrade beyond that many app calls in flight gets 503; an open WebSocket counts for plain requests too', async () => {
    const { app, scopes } = recorder();
    const server = await start(app, { limits: { maxConcurrency: 1 } });
    const first = await within(10_000, open(`ws://127.0.0.1:${server.port}/ws`), 'the first handshake');
    const refused = await within(10_000, open(`ws://127.0.0.1:${server.port}/ws`).then(() => 0, (e: { status?: number }) => e.status ?? -1), 'the second handshake');
    expect(refused).toBe(503);
    expect(scopes).toHaveLength(1);
    const res = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(res.status).toBe(503);
    await res.arrayBuffer();
    // Once the WebSocket's app returns, both kinds are served again.
    const gone = new Promise((resolve) => first.once('close', resolve));
    first.close();
    await within(10_000, gone, 'the close');
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const again = await fetch(`http://127.0.0.1:${server.port}/`);
      status = again.status;
      await again.arrayBuffer();
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
    await within(10_000, open(`ws://127.0.0.1:${server.port}/ws`), 'a handshake after the first closed');
  });
});

test('over a unix socket, an upgrade\'s scope.server is [path, null]', async () => {
  const { app, scopes } = recorder();
  const socketPath = join(dir, 'ws.sock');
  await start(app, { path: socketPath });
  await within(10_000, open(`ws+unix://${socketPath}:/ws`), 'the handshake');
  expect(scopes[0]?.server).toEqual([socketPath, null]);
  expect(scopes[0]?.client).toBeNull();
  expect(scopes[0]?.path).toBe('/ws');
});
