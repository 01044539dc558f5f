/** The WebSocket helper over a scripted server: what it sends, what it hands back, and when it throws. */
import { WebSocket, WebSocketDisconnect, type ASGISendEvent, type WebSocketScope } from '../../src/index.js';
import { fakeServer } from '../support/asgi.js';
import { b, wellFormed } from '../support/messages.js';

const scope = wellFormed.WebSocketScope as unknown as WebSocketScope;
const CONNECT = { type: 'websocket.connect' };
const bye = (code = 1001, reason = 'bye') => ({ type: 'websocket.disconnect', code, reason });

function socket(incoming: unknown[], then: unknown = bye()) {
  const server = fakeServer(incoming, then);
  return { ws: new WebSocket(scope, server.receive, server.send), sent: server.sent as ASGISendEvent[] };
}

test('accept receives connect first and sends the subprotocol and headers', async () => {
  const { ws, sent } = socket([CONNECT]);
  expect(ws.subprotocols).toEqual(['chat.v1']);
  expect(ws.headers.get('Host')).toBe('example.org');
  await ws.accept({ subprotocol: 'chat.v1', headers: { 'X-Room': 'lobby' } });
  expect(ws.clientState).toBe('connected');
  expect(ws.applicationState).toBe('connected');
  expect(sent).toEqual([{ type: 'websocket.accept', subprotocol: 'chat.v1', headers: [[b('x-room'), b('lobby')]] }]);
});

test('typed receives and sends', async () => {
  const { ws, sent } = socket([CONNECT, { type: 'websocket.receive', text: 'hi' }, { type: 'websocket.receive', bytes: b('ab') },
    { type: 'websocket.receive', text: '{"n":1}' }, { type: 'websocket.receive', bytes: b('[2]') }]);
  await ws.accept();
  expect(await ws.receiveText()).toBe('hi');
  expect(await ws.receiveBytes()).toEqual(b('ab'));
  expect(await ws.receiveJson()).toEqual({ n: 1 });
  expect(await ws.receiveJson('binary')).toEqual([2]);
  await ws.sendText('t');
  await ws.sendBytes(b('x'));
  await ws.sendJson({ a: 1 });
  await ws.sendJson([1], 'binary');
  expect(sent.slice(1)).toEqual([
    { type: 'websocket.send', text: 't' },
    { type: 'websocket.send', bytes: b('x') },
    { type: 'websocket.send', text: '{"a":1}' },
    { type: 'websocket.send', bytes: b('[1]') },
  ]);
});

test('a receive of the wrong kind is a TypeError', async () => {
  const { ws } = socket([CONNECT, { type: 'websocket.receive', bytes: b('x') }, { type: 'websocket.receive', text: 'x' }]);
  await ws.accept();
  await expect(ws.receiveText()).rejects.toThrow(TypeError);
  await expect(ws.receiveBytes()).rejects.toThrow(TypeError);
});

test('a disconnect becomes WebSocketDisconnect with the code and reason', async () => {
  const { ws } = socket([CONNECT], bye(4001, 'gone'));
  await ws.accept();
  const error = await ws.receiveText().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WebSocketDisconnect);
  expect(error).toMatchObject({ code: 4001, reason: 'gone' });
  expect(ws.clientState).toBe('disconnected');
});

test('a disconnect without a code reads as 1005', async () => {
  const { ws } = socket([CONNECT], { type: 'websocket.disconnect' });
  await ws.accept();
  await expect(ws.receiveText()).rejects.toMatchObject({ code: 1005, reason: '' });
});

test('async iteration yields every message and ends on disconnect', async () => {
  const { ws } = socket([CONNECT, { type: 'websocket.receive', text: 'a' }, { type: 'websocket.receive', bytes: b('b') }]);
  await ws.accept();
  const seen: (string | Uint8Array)[] = [];
  for await (const message of ws) seen.push(message);
  expect(seen).toEqual(['a', b('b')]);
});

test('iterJson parses each message', async () => {
  const { ws } = socket([CONNECT, { type: 'websocket.receive', text: '1' }, { type: 'websocket.receive', text: '[2]' }]);
  await ws.accept();
  const seen: unknown[] = [];
  for await (const value of ws.iterJson()) seen.push(value);
  expect(seen).toEqual([1, [2]]);
});

test('close before accept refuses the handshake; nothing can be sent after', async () => {
  const { ws, sent } = socket([CONNECT]);
  await ws.close(1008, 'policy');
  expect(sent).toEqual([{ type: 'websocket.close', code: 1008, reason: 'policy' }]);
  await expect(ws.sendText('x')).rejects.toThrow(/already closed/);
  expect(sent).toHaveLength(1);
});

test('receiving before accept is refused', async () => {
  const { ws } = socket([CONNECT]);
  await expect(ws.receiveText()).rejects.toThrow(/accept\(\) first/);
});

test('the client leaving during the handshake makes accept throw WebSocketDisconnect', async () => {
  const { ws } = socket([], { type: 'websocket.disconnect', code: 1006 });
  await expect(ws.accept()).rejects.toMatchObject({ name: 'WebSocketDisconnect', code: 1006 });
});

test('a server send error is passed on, and the socket counts as closed', async () => {
  const server = fakeServer([CONNECT]);
  const ws = new WebSocket(scope, server.receive, async (message) => {
    if (message.type === 'websocket.send') throw new WebSocketDisconnect(1006);
  });
  await ws.accept();
  await expect(ws.sendText('x')).rejects.toBeInstanceOf(WebSocketDisconnect);
  expect(ws.applicationState).toBe('disconnected');
});

test('an HTTP scope is refused', () => {
  const server = fakeServer();
  expect(() => new WebSocket(wellFormed.HTTPScope as unknown as WebSocketScope, server.receive, server.send)).toThrow(/'websocket' scope/);
});
