/** serve()'s WebSocket adapter against apps and clients that break its assumptions, over real sockets. */
import { jest } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { ASGIApp } from '../../src/index.js';
import { closeWebSocketServers, startWebSocketServer, track } from '../support/websocket-server.js';
import { within } from '../support/asgi.js';
import { exchange, rawConnect } from '../support/raw.js';

jest.setTimeout(30_000);

afterEach(closeWebSocketServers);
const start = startWebSocketServer;

/** Resolves with the refusing HTTP status, or 101 once open. */
function handshake(url: string, protocols: string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url, protocols);
    track(client);
    client.once('open', () => resolve(101));
    client.once('unexpected-response', (_req, res: IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    client.once('error', reject);
  });
}

function handshakeBytes(path: string, protocol?: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n`
    + `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${protocol === undefined ? '' : `Sec-WebSocket-Protocol: ${protocol}\r\n`}\r\n`;
}

describe('an app that throws synchronously (validation off)', () => {
  test('gets 500 before the handshake, logged once, and the server keeps answering', async () => {
    // Not async: the throw happens inside the call, as in a plain function app.
    const app = ((scope: { type: string }, _receive: unknown, send: (m: unknown) => Promise<void>) => {
      if (scope.type !== 'http') throw new Error('sync boom');
      return send({ type: 'http.response.start', status: 200, headers: [] })
        .then(() => send({ type: 'http.response.body', body: Buffer.from('alive') }));
    }) as unknown as ASGIApp;
    const { url, lines } = await start(app, { validate: false });
    expect(await within(10_000, handshake(url))).toBe(500);
    expect(await within(10_000, handshake(url))).toBe(500);
    const res = await within(10_000, fetch(url.replace('ws:', 'http:')));
    expect(await res.text()).toBe('alive');
    expect(lines.filter((l) => l.includes('sync boom'))).toHaveLength(2);
  });
});

describe("websocket.accept's subprotocol (validation off)", () => {
  test('one the client did not offer, CR LF and all, is refused with 500 and logged; nothing is injected', async () => {
    const { port, lines } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept', subprotocol: 'inject\r\nSet-Cookie: pwned=1' });
    }, { validate: false });
    const reply = await within(10_000, exchange(port, handshakeBytes('/', 'inject'), 10_000));
    expect(reply).toMatch(/^HTTP\/1.1 500 /);
    expect(reply.toLowerCase()).not.toContain('set-cookie');
    expect(reply).not.toContain('pwned');
    expect(lines.filter((l) => l.includes('Exception in ASGI application'))).toHaveLength(1);
    expect(lines.join('\n')).toContain('did not offer');
  });

  test('a well-formed one the client did not offer is refused too; an offered one is accepted', async () => {
    const { port } = await start(async (scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept', subprotocol: scope.type === 'websocket' && scope.path === '/other' ? 'other' : 'chat' });
      await send({ type: 'websocket.close' });
    }, { validate: false });
    expect(await within(10_000, exchange(port, handshakeBytes('/other', 'chat'), 10_000))).toMatch(/^HTTP\/1.1 500 /);
    const conn = await rawConnect(port);
    conn.write(handshakeBytes('/', 'x, chat'));
    const ok = await conn.until(/\r\n\r\n/, 10_000);
    conn.socket.destroy();
    expect(ok).toMatch(/^HTTP\/1.1 101 /);
    expect(ok).toMatch(/\r\nSec-WebSocket-Protocol: chat\r\n/i);
  });
});

describe('denial responses frame themselves (validation off)', () => {
  const framing = (name: string, value: string): [Buffer, Buffer] => [Buffer.from(name), Buffer.from(value)];

  test("one piece: the app's transfer-encoding, connection and wrong content-length are dropped", async () => {
    const { port } = await start(async (_scope, receive, send) => {
      await receive();
      await send({
        type: 'websocket.http.response.start',
        status: 403,
        headers: [framing('transfer-encoding', 'chunked'), framing('content-length', '999'), framing('connection', 'keep-alive'), framing('x-kept', 'yes')],
      });
      await send({ type: 'websocket.http.response.body', body: Buffer.from('denied') });
    }, { validate: false });
    const reply = await within(10_000, exchange(port, handshakeBytes('/'), 10_000));
    const [head, body] = reply.split('\r\n\r\n', 2) as [string, string];
    const fields = head.split('\r\n').slice(1).map((l) => l.toLowerCase());
    expect(head).toMatch(/^HTTP\/1.1 403 /);
    expect(fields.filter((f) => f.startsWith('transfer-encoding:'))).toEqual([]);
    expect(fields.filter((f) => f.startsWith('content-length:'))).toEqual(['content-length: 6']);
    expect(fields.filter((f) => f.startsWith('connection:'))).toEqual(['connection: close']);
    expect(fields).toContain('x-kept: yes');
    expect(body).toBe('denied');
  });

  test("several pieces: chunked by the server, the app's framing headers dropped", async () => {
    const { port } = await start(async (_scope, receive, send) => {
      await receive();
      await send({
        type: 'websocket.http.response.start',
        status: 403,
        headers: [framing('transfer-encoding', 'gzip'), framing('content-length', '1'), framing('connection', 'keep-alive')],
      });
      await send({ type: 'websocket.http.response.body', body: Buffer.from('den'), more_body: true });
      await send({ type: 'websocket.http.response.body', body: Buffer.from('ied') });
    }, { validate: false });
    const reply = await within(10_000, exchange(port, handshakeBytes('/'), 10_000));
    const head = reply.slice(0, reply.indexOf('\r\n\r\n'));
    const fields = head.split('\r\n').slice(1).map((l) => l.toLowerCase());
    expect(fields.filter((f) => /^(transfer-encoding|content-length|connection):/.test(f))).toEqual(['transfer-encoding: chunked', 'connection: close']);
    expect(reply.slice(head.length + 4)).toBe('3\r\nden\r\n3\r\nied\r\n0\r\n\r\n');
  });
});

describe('concurrent receive()', () => {
  function openClient(url: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const client = new WebSocket(url);
      track(client);
      client.once('open', () => resolve(client));
      client.once('error', reject);
    });
  }

  test('two pending calls both settle with the next message', async () => {
    let settled!: (value: unknown[]) => void;
    const both = new Promise<unknown[]>((resolve) => {
      settled = resolve;
    });
    const { url } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
      settled(await Promise.all([receive(), receive()]));
      await send({ type: 'websocket.close' });
    });
    const client = await within(10_000, openClient(url));
    client.send('hello');
    const messages = await within(10_000, both, 'both receive() calls');
    expect(messages).toEqual([{ type: 'websocket.receive', text: 'hello' }, { type: 'websocket.receive', text: 'hello' }]);
  });

  test('two pending calls both settle with the disconnect', async () => {
    let settled!: (value: unknown[]) => void;
    const both = new Promise<unknown[]>((resolve) => {
      settled = resolve;
    });
    const { url } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
      settled(await Promise.all([receive(), receive()]));
    });
    const client = await within(10_000, openClient(url));
    client.close(4000, 'bye');
    const messages = await within(10_000, both, 'both receive() calls');
    expect(messages).toEqual([
      { type: 'websocket.disconnect', code: 4000, reason: 'bye' },
      { type: 'websocket.disconnect', code: 4000, reason: 'bye' },
    ]);
  });
});

describe('an Upgrade that is not WebSocket, with a body', () => {
  const bodies: string[] = [];
  const app: ASGIApp = async (scope, receive, send) => {
    if (scope.type !== 'http') return;
    let body = '';
    for (;;) {
      const message = await receive();
      if (message.type !== 'http.request') break;
      body += Buffer.from(message.body ?? new Uint8Array()).toString();
      if (message.more_body !== true) break;
    }
    bodies.push(body);
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: Buffer.from(`got ${JSON.stringify(body)}`) });
  };

  test.each([
    ['content-length', 'Content-Length: 5\r\n\r\nhello'],
    ['chunked', 'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
  ])('(%s) is refused with 501, never served as bodiless', async (_name, rest) => {
    bodies.length = 0;
    const { port } = await start(app, { validate: false });
    const reply = await within(10_000, exchange(port, `POST /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n${rest}`, 10_000));
    expect(reply).toMatch(/^HTTP\/1.1 501 /);
    expect(reply).not.toContain('got ""');
    expect(bodies).toEqual([]);
  });

  test('a bodiless one is still served as plain HTTP', async () => {
    bodies.length = 0;
    const { port } = await start(app, { validate: false });
    const reply = await within(10_000, exchange(port, 'POST /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n', 10_000));
    expect(reply).toMatch(/^HTTP\/1.1 200 /);
    expect(reply.endsWith('got ""')).toBe(true);
  });
});
