/** serve() speaking WebSocket, over real sockets on 127.0.0.1 with `ws` as the client. */
import { jest } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import WebSocket from 'ws';
import {
  WebSocket as AppSocket,
  WebSocketDisconnect,
  type ASGIApp,
  type WebSocketScope,
} from '../../src/index.js';
import { closeWebSocketServers, startWebSocketServer, track } from '../support/websocket-server.js';
import { sleep, within } from '../support/asgi.js';

jest.setTimeout(30_000);

afterEach(closeWebSocketServers);
const start = startWebSocketServer;

/** Opens a client; resolves once open, or rejects with the HTTP response that refused it. */
function open(url: string, protocols: string[] = [], options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url, protocols, options);
    track(client);
    client.once('open', () => resolve(client));
    client.once('unexpected-response', (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(Object.assign(new Error(`refused: ${res.statusCode}`), { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() })));
    });
    client.once('error', reject);
  });
}

function closed(client: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => client.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

function nextMessage(client: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => client.once('message', (data: Buffer, isBinary) => resolve({ data, isBinary })));
}

/** A promise and its resolver, for what the app saw. */
function seen<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const echo: ASGIApp = async (scope, receive, send) => {
  if (scope.type !== 'websocket') return;
  const ws = new AppSocket(scope, receive, send);
  await ws.accept();
  for await (const message of ws) {
    if (typeof message === 'string') await ws.sendText(message);
    else await ws.sendBytes(message);
  }
};

describe('handshake', () => {
  test('accept with the chosen subprotocol and extra headers; the scope describes the request', async () => {
    const scopeSeen = seen<WebSocketScope>();
    const { url } = await start(async (scope, receive, send) => {
      if (scope.type !== 'websocket') return;
      scopeSeen.resolve(scope);
      const ws = new AppSocket(scope, receive, send);
      await ws.accept({ subprotocol: 'chat.v2', headers: { 'x-room': 'lobby' } });
      await ws.close();
    });
    const upgrade = seen<IncomingMessage>();
    const client = new WebSocket(`${url}/chat/room%201?x=1`, ['chat.v1', 'chat.v2'], { headers: { 'x-token': 'abc' } });
    track(client);
    client.once('upgrade', upgrade.resolve);
    const response = await within(10_000, upgrade.promise);
    expect(response.headers['sec-websocket-protocol']).toBe('chat.v2');
    expect(response.headers['x-room']).toBe('lobby');
    expect(client.protocol).toBe('chat.v2');
    const scope = await scopeSeen.promise;
    expect(scope).toMatchObject({ type: 'websocket', scheme: 'ws', path: '/chat/room 1', subprotocols: ['chat.v1', 'chat.v2'], extensions: { 'websocket.http.response': {} } });
    expect(Buffer.from(scope.query_string!).toString()).toBe('x=1');
    expect(scope.headers.some(([n, v]) => Buffer.from(n).toString() === 'x-token' && Buffer.from(v).toString() === 'abc')).toBe(true);
    expect(scope.client?.[0]).toBe('127.0.0.1');
  });

  test('no Sec-WebSocket-Protocol in the response when the app chose none, whatever the client offered', async () => {
    const { url } = await start(echo);
    // Raw bytes: a client library may refuse the response, and the wire is what matters here.
    const raw = await new Promise<string>((resolve, reject) => {
      const port = Number(new URL(url).port);
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a, b\r\n\r\n`);
      });
      let text = '';
      socket.on('data', (d) => {
        text += d.toString('latin1');
        if (text.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1.1 101 /);
    expect(raw).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(raw.toLowerCase()).not.toContain('sec-websocket-protocol');
  });

  test('close before accept answers 403', async () => {
    const { url } = await start(async (scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.close' });
    });
    await expect(open(url)).rejects.toMatchObject({ status: 403 });
  });

  test('a denial response goes out as an HTTP response with its body', async () => {
    const { url } = await start(async (scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.http.response.start', status: 401, headers: [[Buffer.from('www-authenticate'), Buffer.from('Bearer')]] });
      await send({ type: 'websocket.http.response.body', body: Buffer.from('who '), more_body: true });
      await send({ type: 'websocket.http.response.body', body: Buffer.from('are you?') });
    });
    await expect(open(url)).rejects.toMatchObject({ status: 401, body: 'who are you?', headers: { 'www-authenticate': 'Bearer' } });
  });

  test.each([true, false])('an app that returns before accepting gets 500 and a log line (validate %s)', async (validate) => {
    const { url, lines } = await start(async (_scope, receive) => {
      await receive();
    }, { validate });
    await expect(open(url)).rejects.toMatchObject({ status: 500 });
    await sleep(50);
    expect(lines.join('\n')).toMatch(/error: .*(without accepting|without answering)/);
  });

  test.each([true, false])('an app that only speaks HTTP gets 500 and a log line, never a hang (validate %s)', async (validate) => {
    const { url, lines } = await start(async (_scope, _receive, send) => {
      await send({ type: 'http.response.start', status: 200 });
      await send({ type: 'http.response.body', body: Buffer.from('hello') });
    }, { validate });
    await expect(within(10_000, open(url))).rejects.toMatchObject({ status: 500 });
    expect(lines.join('\n')).toMatch(/error: Exception in ASGI application, "GET \/ HTTP\/1.1" \(WebSocket\)/);
  });

  test('an app that throws after closing before accept still answers 403', async () => {
    const { url } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.close' });
      throw new Error('boom');
    });
    await expect(open(url)).rejects.toMatchObject({ status: 403 });
  });

  test('a malformed handshake is refused by ws before the app runs', async () => {
    let calls = 0;
    const { url } = await start(async (scope) => {
      if (scope.type === 'websocket') calls += 1;
    }, { validate: false, lifespan: 'off' });
    const port = Number(new URL(url).port);
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n');
      });
      let text = '';
      socket.on('data', (d) => {
        text += d.toString();
      });
      socket.on('close', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1.1 400 /);
    expect(calls).toBe(0);
  });
});

describe('handshake edge cases', () => {
  test('a client that leaves before the app answers: receive() answers websocket.disconnect, never hangs', async () => {
    const second = seen<unknown>();
    const { url } = await start(async (scope, receive) => {
      if (scope.type !== 'websocket') return;
      await receive(); // websocket.connect
      second.resolve(await receive()); // nothing can come before the handshake is answered, except the end
    });
    const port = Number(new URL(url).port);
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      setTimeout(() => socket.end(), 100);
    });
    socket.on('error', () => {});
    expect(await within(10_000, second.promise)).toMatchObject({ type: 'websocket.disconnect', code: 1006 });
  });

  test('an Upgrade that is not WebSocket (h2c) is served as a plain HTTP request', async () => {
    const { url } = await start(async (scope, _receive, send) => {
      if (scope.type !== 'http') return;
      await send({ type: 'http.response.start', status: 200, headers: [[Buffer.from('content-type'), Buffer.from('text/plain')]] });
      await send({ type: 'http.response.body', body: Buffer.from(`plain ${scope.path}`) });
    });
    const port = Number(new URL(url).port);
    const reply = await within(10_000, new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('GET /h2c HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n');
      });
      let text = '';
      socket.on('data', (d) => {
        text += d.toString();
      });
      socket.on('close', () => resolve(text));
    }));
    expect(reply).toMatch(/^HTTP\/1.1 200 OK\r\n/);
    expect(reply.endsWith('plain /h2c')).toBe(true);
  });
});

describe('safety with validation off', () => {
  test('a CR LF in a handshake header is refused: 500, nothing injected', async () => {
    const { url, lines } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept', headers: [[Buffer.from('x-a'), Buffer.from('v\r\nset-cookie: stolen=1')]] });
    }, { validate: false });
    const refused = (await open(url).catch((e: unknown) => e)) as { status: number; headers: Record<string, string> };
    expect(refused.status).toBe(500);
    expect(refused.headers['set-cookie']).toBeUndefined();
    expect(lines.join('\n')).toContain('Exception in ASGI application');
  });

  test.each([
    ['a close code no frame may carry', { type: 'websocket.close', code: 1005 }],
    ['a send with neither text nor bytes', { type: 'websocket.send' }],
  ])('%s makes send() raise; the app failing closes with 1011', async (_name, message) => {
    const raised = seen<unknown>();
    const { url } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
      try {
        await send(message as never);
      } catch (error) {
        raised.resolve(error);
        throw error;
      }
    }, { validate: false });
    const client = await open(url);
    expect(await within(10_000, raised.promise)).toBeInstanceOf(Error);
    expect(await within(10_000, closed(client))).toMatchObject({ code: 1011 });
  });
});

describe('messages', () => {
  test('echo of text and binary', async () => {
    const { url } = await start(echo);
    const client = await open(url);
    let reply = nextMessage(client);
    client.send('héllo');
    expect(await within(10_000, reply)).toMatchObject({ isBinary: false });
    expect((await reply).data.toString()).toBe('héllo');
    reply = nextMessage(client);
    client.send(Buffer.from([0, 1, 2, 255]));
    expect(await within(10_000, reply)).toEqual({ data: Buffer.from([0, 1, 2, 255]), isBinary: true });
  });

  test.each([
    [1000, 'done', 1000, 'done'],
    [4321, 'custom', 4321, 'custom'],
    [undefined, undefined, 1005, ''],
  ])('client close %s %s reaches the app as code %s', async (code, reason, expectedCode, expectedReason) => {
    const disconnect = seen<unknown>();
    const { url } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
      disconnect.resolve(await receive());
    });
    const client = await open(url);
    client.close(code, reason);
    expect(await within(10_000, disconnect.promise)).toEqual({ type: 'websocket.disconnect', code: expectedCode, reason: expectedReason });
  });

  test('a dropped connection reaches the app as 1006', async () => {
    const disconnect = seen<unknown>();
    const { url } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
      disconnect.resolve(await receive());
    });
    const client = await open(url);
    client.terminate();
    expect(await within(10_000, disconnect.promise)).toMatchObject({ type: 'websocket.disconnect', code: 1006 });
  });

  test('a send after the disconnect raises WebSocketDisconnect, which the app can catch', async () => {
    const caught = seen<unknown>();
    const { url, lines } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
      await receive(); // the disconnect
      try {
        await send({ type: 'websocket.send', text: 'too late' });
      } catch (error) {
        caught.resolve(error);
      }
    });
    const client = await open(url);
    client.close(1001);
    const error = await within(10_000, caught.promise);
    expect(error).toBeInstanceOf(WebSocketDisconnect);
    expect(error).toMatchObject({ code: 1001 });
    await sleep(50);
    expect(lines).toEqual([]);
  });

  test('app close reaches the client with its code and reason', async () => {
    const { url } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
      await send({ type: 'websocket.close', code: 4000, reason: 'bye now' });
    });
    const client = await open(url);
    expect(await within(10_000, closed(client))).toEqual({ code: 4000, reason: 'bye now' });
  });

  test('an app that returns after accepting closes with 1000', async () => {
    const { url } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
    });
    const client = await open(url);
    expect(await within(10_000, closed(client))).toMatchObject({ code: 1000 });
  });

  test('an app that throws after accepting closes with 1011 and is logged', async () => {
    const { url, lines } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
      throw new Error('kaboom');
    });
    const client = await open(url);
    expect(await within(10_000, closed(client))).toMatchObject({ code: 1011 });
    expect(lines.join('\n')).toContain('error: Exception in ASGI application');
  });

  test('a message past limits.maxWebSocketMessage closes with 1009', async () => {
    const disconnect = seen<unknown>();
    const { url } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
      const first = await receive();
      expect(first).toMatchObject({ type: 'websocket.receive' });
      disconnect.resolve(await receive());
    }, { limits: { maxWebSocketMessage: 1024 } });
    const client = await open(url);
    client.send(Buffer.alloc(1024)); // at the limit: fine
    client.send(Buffer.alloc(1025));
    expect(await within(10_000, closed(client))).toMatchObject({ code: 1009 });
    expect(await within(10_000, disconnect.promise)).toMatchObject({ type: 'websocket.disconnect', code: 1009 });
  });
});

describe('server', () => {
  test('shutdown closes open sockets with 1012 and waits for their apps', async () => {
    let appDone = false;
    const { url, handle: h } = await start(async (scope, receive, send) => {
      const ws = new AppSocket(scope as WebSocketScope, receive, send);
      await ws.accept();
      for await (const _ of ws) { /* until disconnect */ }
      appDone = true;
    });
    const client = await open(url);
    const gone = closed(client);
    await within(15_000, h.close());
    expect(await gone).toMatchObject({ code: 1012 });
    expect(appDone).toBe(true);
  });

  test('ping: a client that never answers is dropped after the next interval; one that answers stays', async () => {
    const { url } = await start(echo, { timeouts: { webSocketPing: 200 } });
    const silent = await open(url, [], { autoPong: false });
    const polite = await open(url);
    const silentClosed = closed(silent);
    let pings = 0;
    silent.on('ping', () => {
      pings += 1;
    });
    const result = await within(10_000, silentClosed);
    expect(result.code).toBe(1006);
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(polite.readyState).toBe(WebSocket.OPEN);
    const reply = nextMessage(polite);
    polite.send('still here');
    expect((await within(10_000, reply)).data.toString()).toBe('still here');
  });

  test('backpressure out: a client that reads nothing stalls the app\'s sends instead of growing memory', async () => {
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 7);
    const { url } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
      for (;;) {
        await send({ type: 'websocket.send', bytes: chunk });
        sent += 1;
      }
    }, { timeouts: { webSocketPing: 0 } });
    const client = await open(url);
    // ws's client reads through the socket; pausing it leaves the data in the kernel.
    client.pause();
    await sleep(1500);
    const early = sent;
    await sleep(1000);
    // Stalled: kernel buffers hold a few MiB at most; without backpressure this grows without end.
    expect(sent).toBe(early);
    expect(sent * chunk.length).toBeLessThan(48 * 1024 * 1024);
    client.resume();
    await within(10_000, (async () => {
      while (sent <= early + 10) await sleep(20);
    })());
  });

  test('backpressure in: while the app is not receiving, the server stops reading', async () => {
    const go = seen<void>();
    let received = 0;
    const { url } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
      await go.promise;
      for (;;) {
        const m = await receive();
        if (m.type !== 'websocket.receive') return;
        received += 1;
      }
    }, { timeouts: { webSocketPing: 0 } });
    const client = await open(url);
    const total = 640; // 40 MiB, far past what kernel buffers hold
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < total; i++) client.send(chunk);
    await sleep(1500);
    // The server is not reading: most of it still waits in the client.
    expect(client.bufferedAmount).toBeGreaterThan(16 * 1024 * 1024);
    go.resolve();
    await within(20_000, (async () => {
      while (received < total) await sleep(20);
    })());
    expect(received).toBe(total);
  });
});

describe('after the app closes', () => {
  test('messages the client sent before its close reply are not handed to the app (validation on)', async () => {
    const after = seen<unknown>();
    const { url, lines } = await start(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
      await new Promise((r) => setTimeout(r, 300)); // the client's messages queue up meanwhile
      await send({ type: 'websocket.close', code: 4000 });
      after.resolve(await receive());
    }, { timeouts: { webSocketPing: 0 } });
    const client = await open(url);
    for (let i = 0; i < 40; i++) client.send(`m${i}`); // past the queue bound: the socket is paused
    expect(await within(10_000, closed(client))).toMatchObject({ code: 4000 });
    expect(await within(10_000, after.promise)).toMatchObject({ type: 'websocket.disconnect', code: 4000 });
    expect(lines).toEqual([]);
  });
});

test('shutdown does not wait on a client that never answers the close', async () => {
  const paused = seen<void>();
  const { url, handle: h } = await start(async (scope, receive, send) => {
    if (scope.type !== 'websocket') return;
    await receive();
    await send({ type: 'websocket.accept' });
    await paused.promise;
    await send({ type: 'websocket.close' }); // the app is done; ws now waits for the client's reply
  }, { gracePeriod: 500, lifespan: 'off' });
  const client = await open(url);
  // A client that stops reading never sends its close reply.
  (client as unknown as { _socket: import('node:net').Socket })._socket.pause();
  paused.resolve();
  await sleep(200);
  const started = Date.now();
  await within(10_000, h.close());
  expect(Date.now() - started).toBeLessThan(5000); // ws alone would hold the socket 30 s
});
