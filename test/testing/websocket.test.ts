/** TestClient.websocketConnect: the same WebSocket behaviour as serve, in process. */
import { ProtocolError, WebSocket, WebSocketDisconnect, type ASGIApp, type WebSocketScope } from '../../src/index.js';
import { TestClient, WebSocketDenied } from '../../src/testing/index.js';
import { within } from '../support/asgi.js';

const echo: ASGIApp = async (scope, receive, send) => {
  const ws = new WebSocket(scope as WebSocketScope, receive, send);
  await ws.accept();
  for await (const message of ws) {
    if (typeof message === 'string') await ws.sendText(message);
    else await ws.sendBytes(message);
  }
};

test('handshake with subprotocol and headers; the scope describes the request', async () => {
  let seen: WebSocketScope | undefined;
  const client = new TestClient(async (scope, receive, send) => {
    seen = scope as WebSocketScope;
    const ws = new WebSocket(seen, receive, send);
    await ws.accept({ subprotocol: 'b', headers: { 'x-room': 'lobby' } });
    await ws.close();
  });
  const session = await client.websocketConnect('/chat?x=1', { subprotocols: ['a', 'b'], headers: { 'x-token': 't' } });
  expect(session.subprotocol).toBe('b');
  expect(session.headers.get('x-room')).toBe('lobby');
  expect(seen).toMatchObject({ type: 'websocket', scheme: 'ws', path: '/chat', subprotocols: ['a', 'b'], extensions: { 'websocket.http.response': {} } });
  expect(new WebSocket(seen!, async () => ({ type: 'websocket.connect' }), async () => {}).headers.get('x-token')).toBe('t');
  await expect(session.receiveText()).rejects.toMatchObject({ name: 'WebSocketDisconnect', code: 1000 });
});

test('echo of text, bytes and JSON', async () => {
  const session = await new TestClient(echo).websocketConnect('/');
  session.sendText('hi');
  expect(await session.receiveText()).toBe('hi');
  session.sendBytes(new Uint8Array([1, 2]));
  expect(await session.receiveBytes()).toEqual(new Uint8Array([1, 2]));
  session.sendJson({ a: [1] });
  expect(await session.receiveJson()).toEqual({ a: [1] });
  session.sendJson({ b: 2 }, 'binary');
  expect(await session.receiveJson('binary')).toEqual({ b: 2 });
  session.close();
});

test('close before accept rejects with WebSocketDenied holding a 403', async () => {
  const client = new TestClient(async (_scope, receive, send) => {
    await receive();
    await send({ type: 'websocket.close', code: 1008 });
  });
  const error = await client.websocketConnect('/').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WebSocketDenied);
  expect((error as WebSocketDenied).response.status).toBe(403);
});

test('a denial response rejects with WebSocketDenied holding that response', async () => {
  const client = new TestClient(async (_scope, receive, send) => {
    await receive();
    await send({ type: 'websocket.http.response.start', status: 401, headers: [[new TextEncoder().encode('www-authenticate'), new TextEncoder().encode('Bearer')]] });
    await send({ type: 'websocket.http.response.body', body: new TextEncoder().encode('who '), more_body: true });
    await send({ type: 'websocket.http.response.body', body: new TextEncoder().encode('are you?') });
  });
  const error = (await client.websocketConnect('/').catch((e: unknown) => e)) as WebSocketDenied;
  expect(error).toBeInstanceOf(WebSocketDenied);
  expect(error.response.status).toBe(401);
  expect(error.response.headers.get('www-authenticate')).toBe('Bearer');
  expect(await error.response.text()).toBe('who are you?');
});

test('the client close reaches the app with code and reason; a later send raises WebSocketDisconnect', async () => {
  let disconnect: unknown;
  let sendError: unknown;
  const client = new TestClient(async (_scope, receive, send) => {
    await receive();
    await send({ type: 'websocket.accept' });
    disconnect = await receive();
    await send({ type: 'websocket.send', text: 'late' }).catch((e: unknown) => {
      sendError = e;
    });
  });
  const session = await client.websocketConnect('/');
  session.close(4001, 'bye');
  await within(5000, client.settled());
  expect(disconnect).toEqual({ type: 'websocket.disconnect', code: 4001, reason: 'bye' });
  expect(sendError).toBeInstanceOf(WebSocketDisconnect);
});

test('the app closing reaches the client; returning without closing reads as 1000', async () => {
  const closing = new TestClient(async (scope, receive, send) => {
    const ws = new WebSocket(scope as WebSocketScope, receive, send);
    await ws.accept();
    await ws.close(4002, 'done');
  });
  const s1 = await closing.websocketConnect('/');
  expect(await s1.receive()).toEqual({ type: 'websocket.close', code: 4002, reason: 'done' });
  const returning = new TestClient(async (_scope, receive, send) => {
    await receive();
    await send({ type: 'websocket.accept' });
  });
  const s2 = await returning.websocketConnect('/');
  expect(await s2.receive()).toEqual({ type: 'websocket.close', code: 1000, reason: '' });
});

test('errors the app throws surface as in fetch: raised by default, 500 or 1011 without raiseAppErrors', async () => {
  const failsEarly: ASGIApp = async () => {
    throw new Error('early');
  };
  await expect(new TestClient(failsEarly).websocketConnect('/')).rejects.toThrow('early');
  const denied = (await new TestClient(failsEarly, { raiseAppErrors: false }).websocketConnect('/').catch((e: unknown) => e)) as WebSocketDenied;
  expect(denied.response.status).toBe(500);

  const failsLate: ASGIApp = async (_scope, receive, send) => {
    await receive();
    await send({ type: 'websocket.accept' });
    throw new Error('late');
  };
  const raising = await new TestClient(failsLate).websocketConnect('/');
  await expect(raising.receive()).rejects.toThrow('late');
  const quiet = await new TestClient(failsLate, { raiseAppErrors: false }).websocketConnect('/');
  expect(await quiet.receive()).toMatchObject({ type: 'websocket.close', code: 1011 });
});

test('an app that throws synchronously is handled as one that rejects', async () => {
  const failing = ((): Promise<void> => {
    throw new Error('thrown before any promise');
  }) as ASGIApp;
  await expect(new TestClient(failing, { validate: false }).websocketConnect('/')).rejects.toThrow('thrown before any promise');
  const denied = (await new TestClient(failing, { validate: false, raiseAppErrors: false }).websocketConnect('/').catch((e: unknown) => e)) as WebSocketDenied;
  expect(denied.response.status).toBe(500);
});

test('the scope is what serve would build: latin-1 header bytes, a malformed escape left as sent', async () => {
  let seen: WebSocketScope | undefined;
  const app: ASGIApp = async (scope, receive, send) => {
    if (scope.type === 'websocket') seen = scope;
    await receive();
    await send({ type: 'websocket.accept' });
  };
  const session = await new TestClient(app).websocketConnect('/ws/%ff', { headers: { 'x-v': 'café' } });
  const value = seen!.headers.find(([name]) => Buffer.from(name).toString('latin1') === 'x-v')![1];
  expect([...value]).toEqual([0x63, 0x61, 0x66, 233]);
  expect(seen!.path).toBe('/ws/%ff');
  await expect(new TestClient(app).websocketConnect('/', { headers: { 'x-v': 'snow ☃' } })).rejects.toThrow(TypeError);
  session.close();
});

test('validation is on: an order mistake surfaces as a ProtocolError', async () => {
  const client = new TestClient(async (_scope, receive, send) => {
    await receive();
    await send({ type: 'websocket.send', text: 'before accept' });
  });
  const error = await client.websocketConnect('/').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ProtocolError);
  expect((error as ProtocolError).message).toMatch(/before the handshake was answered/);
});

test('lifespan state reaches the scope', async () => {
  let state: unknown;
  const client = new TestClient(async (scope, receive, send) => {
    if (scope.type === 'lifespan') {
      await receive();
      scope.state!.db = 'ok';
      await send({ type: 'lifespan.startup.complete' });
      await receive();
      await send({ type: 'lifespan.shutdown.complete' });
      return;
    }
    state = (scope as WebSocketScope).state;
    await receive();
    await send({ type: 'websocket.close' });
  });
  await client.lifespan(async () => {
    await expect(client.websocketConnect('/')).rejects.toBeInstanceOf(WebSocketDenied);
  });
  expect(state).toEqual({ db: 'ok' });
});
