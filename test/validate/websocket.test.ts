/**
 * validate() on WebSocket scopes: every order mistake in either direction, the text/bytes rule,
 * the denial extension, and the checks on handshake headers and close frames.
 */
import {
  ProtocolError,
  validate,
  WEBSOCKET,
  WebSocketStateMachine,
  type ASGIApp,
  type ASGISendEvent,
  type Scope,
} from '../../src/index.js';
import { fakeServer } from '../support/asgi.js';
import { b, wellFormed } from '../support/messages.js';

const baseScope = wellFormed.WebSocketScope as Record<string, unknown>;
const scope = (overrides: Record<string, unknown> = {}) => ({ ...baseScope, ...overrides }) as unknown as Scope;
const noDenial = () => scope({ extensions: {} });

const CONNECT = { type: 'websocket.connect' };
const DISCONNECT = { type: 'websocket.disconnect', code: 1001, reason: '' };
const ACCEPT = { type: 'websocket.accept' };
const CLOSE = { type: 'websocket.close' };
const text = (t: string) => ({ type: 'websocket.receive', text: t });
const sendText = (t: string) => ({ type: 'websocket.send', text: t });
const denyStart = (status = 401) => ({ type: 'websocket.http.response.start', status, headers: [[b('content-type'), b('text/plain')]] });
const denyBody = (body: string, more = false) => ({ type: 'websocket.http.response.body', body: b(body), more_body: more });

type Step = 'recv' | unknown;

/**
 * Runs a validated app that performs `steps` in order: 'recv' calls receive(), anything else is
 * sent. Returns the first error a step raised (with its index), what reached the server, and
 * what the app's own promise did.
 */
async function run(steps: Step[], opts: { incoming?: unknown[]; scope?: Scope } = {}) {
  const server = fakeServer(opts.incoming ?? [CONNECT], DISCONNECT);
  let failure: unknown;
  let failedAt = -1;
  const app: ASGIApp = async (_scope, receive, send) => {
    for (const [i, step] of steps.entries()) {
      try {
        if (step === 'recv') await receive();
        else await send(step as ASGISendEvent);
      } catch (error) {
        failure = error;
        failedAt = i;
        return;
      }
    }
  };
  let appError: unknown;
  await validate(app, { enabled: true })(opts.scope ?? scope(), server.receive, server.send).catch((e: unknown) => {
    appError = e;
  });
  return { failure, failedAt, appError, sent: server.sent };
}

function expectError(error: unknown, fields: Partial<ProtocolError>, message?: RegExp) {
  expect(error).toBeInstanceOf(ProtocolError);
  expect(error).toMatchObject(fields);
  if (message) expect((error as Error).message).toMatch(message);
}

describe('legal exchanges pass untouched', () => {
  test('accept, echo, close', async () => {
    const r = await run(['recv', { ...ACCEPT, subprotocol: 'chat.v1' }, 'recv', sendText('hi'), CLOSE], { incoming: [CONNECT, text('hi')] });
    expect(r.failure).toBeUndefined();
    expect(r.appError).toBeUndefined();
    expect(r.sent.map((m) => m.type)).toEqual(['websocket.accept', 'websocket.send', 'websocket.close']);
  });

  test('close before accept, then disconnect', async () => {
    const r = await run(['recv', CLOSE, 'recv', 'recv']);
    expect(r.failure).toBeUndefined();
    expect(r.sent).toEqual([CLOSE]);
  });

  test('a denial response in two chunks', async () => {
    const r = await run(['recv', denyStart(), denyBody('no ', true), denyBody('entry')]);
    expect(r.failure).toBeUndefined();
    expect(r.appError).toBeUndefined();
    expect(r.sent).toHaveLength(3);
  });

  test('the app may return after accepting without closing (the server closes with 1000)', async () => {
    const r = await run(['recv', ACCEPT]);
    expect(r.appError).toBeUndefined();
  });

  test('a send after receiving disconnect goes to the server, whose error the app may catch', async () => {
    const r = await run(['recv', ACCEPT, 'recv', sendText('x'), CLOSE], { incoming: [CONNECT, DISCONNECT] });
    expect(r.failure).toBeUndefined();
    expect(r.sent.map((m) => m.type)).toEqual(['websocket.accept', 'websocket.send', 'websocket.close']);
  });

  test('receive after the client left keeps answering disconnect', async () => {
    const r = await run(['recv', ACCEPT, 'recv', 'recv'], { incoming: [CONNECT, DISCONNECT, DISCONNECT] });
    expect(r.failure).toBeUndefined();
  });
});

describe('app to server: order', () => {
  test.each([
    ['accept before receiving connect', [ACCEPT], 0, 'websocket.accept', /before receiving 'websocket.connect'/],
    ['send before accept', ['recv', sendText('x')], 1, 'websocket.send', /before the handshake was answered/],
    ['accept twice', ['recv', ACCEPT, ACCEPT], 2, 'websocket.accept', /twice/],
    ['send after close', ['recv', ACCEPT, CLOSE, sendText('x')], 3, 'websocket.send', /after the connection was closed/],
    ['close after close', ['recv', ACCEPT, CLOSE, CLOSE], 3, 'websocket.close', /after the connection was closed/],
    ['accept after close before accept', ['recv', CLOSE, ACCEPT], 2, 'websocket.accept', /after the connection was closed/],
    ['denial body before its start', ['recv', denyBody('x')], 1, 'websocket.http.response.body', /before 'websocket.http.response.start'/],
    ['denial after accept', ['recv', ACCEPT, denyStart()], 2, 'websocket.http.response.start', /after 'websocket.accept'/],
    ['accept during a denial', ['recv', denyStart(), ACCEPT], 2, 'websocket.accept', /during the denial response/],
    ['anything after a complete denial', ['recv', denyStart(), denyBody('x'), denyBody('y')], 3, 'websocket.http.response.body', /after the connection was closed/],
  ])('%s', async (_name, steps, at, type, message) => {
    const r = await run(steps, { incoming: [CONNECT, DISCONNECT] });
    expect(r.failedAt).toBe(at);
    expectError(r.failure, { direction: 'send', type, rule: 'order', path: '' }, message);
    // The violating message never reached the server.
    expect(r.sent).toHaveLength(at - steps.slice(0, at).filter((s) => s === 'recv').length);
  });

  test('returning without answering the handshake rejects the app', async () => {
    const r = await run(['recv']);
    expectError(r.appError, { direction: 'send', rule: 'incomplete-handshake' }, /without answering 'websocket.connect'/);
  });

  test('returning in the middle of a denial response rejects the app', async () => {
    const r = await run(['recv', denyStart(), denyBody('x', true)]);
    expectError(r.appError, { direction: 'send', rule: 'incomplete-response' });
  });
});

describe('app to server: shape and content', () => {
  test.each([
    ['text and bytes both set', { type: 'websocket.send', text: 'a', bytes: b('a') }, /both are set/],
    ['neither text nor bytes', { type: 'websocket.send' }, /neither is set/],
    ['both null', { type: 'websocket.send', text: null, bytes: null }, /neither is set/],
    ['text that is bytes', { type: 'websocket.send', text: b('a') }, /wrong type/],
  ])('websocket.send with %s', async (_name, message, why) => {
    const r = await run(['recv', ACCEPT, message]);
    expectError(r.failure, { direction: 'send', type: 'websocket.send', rule: 'text-or-bytes' }, why);
    expect((r.failure as Error).message).toMatch(/^app sent invalid 'websocket.send': exactly one of \/text .* and \/bytes/);
  });

  test('a denial response needs the extension offered in the scope', async () => {
    const r = await run(['recv', denyStart()], { scope: noDenial() });
    expectError(r.failure, { direction: 'send', type: 'websocket.http.response.start', rule: 'extension', path: '/type' }, /does not offer the 'websocket.http.response' extension/);
  });

  test('a denial response needs a final status', async () => {
    const r = await run(['recv', denyStart(101)]);
    expectError(r.failure, { type: 'websocket.http.response.start', rule: 'final-status', path: '/status' });
  });

  test('the subprotocol must be one the client offered', async () => {
    const r = await run(['recv', { ...ACCEPT, subprotocol: 'chat.v9' }]);
    expectError(r.failure, { type: 'websocket.accept', rule: 'subprotocol', path: '/subprotocol' }, /not one the client offered/);
  });

  test('handshake headers are checked like response headers', async () => {
    const r = await run(['recv', { ...ACCEPT, headers: [[b('X-Upper'), b('v')]] }]);
    expectError(r.failure, { type: 'websocket.accept', rule: 'header-name', path: '/headers/0/0' });
    const split = await run(['recv', { ...ACCEPT, headers: [[b('x-a'), b('v\r\nset-cookie: x')]] }]);
    expectError(split.failure, { type: 'websocket.accept', rule: 'header-value', path: '/headers/0/1' });
  });

  test.each([[1005], [1006], [1015], [999], [2000], [5000]])('close code %i cannot be sent', async (code) => {
    const r = await run(['recv', ACCEPT, { ...CLOSE, code }]);
    expectError(r.failure, { type: 'websocket.close', rule: 'close-code', path: '/code' });
  });

  test('a close reason longer than a control frame holds', async () => {
    const r = await run(['recv', ACCEPT, { ...CLOSE, reason: 'é'.repeat(62) }]);
    expectError(r.failure, { type: 'websocket.close', rule: 'close-reason', path: '/reason' });
    const fits = await run(['recv', ACCEPT, { ...CLOSE, code: 4000, reason: 'x'.repeat(123) }]);
    expect(fits.failure).toBeUndefined();
  });

  test('an HTTP message on a websocket connection', async () => {
    const r = await run(['recv', { type: 'http.response.start', status: 200 }]);
    expectError(r.failure, { direction: 'send', type: 'http.response.start', rule: 'direction' }, /on a 'websocket' connection/);
  });
});

describe('server to app', () => {
  test.each([
    ['a message before connect', [text('x')], 0, /before 'websocket.connect'/],
    ['disconnect before connect', [DISCONNECT], 0, /before 'websocket.connect'/],
    ['connect twice', [CONNECT, CONNECT], 1, /twice/],
    ['a message before accept', [CONNECT, text('x')], 1, /before the app accepted/],
  ])('%s', async (_name, incoming, at, message) => {
    const r = await run(['recv', 'recv'], { incoming });
    expect(r.failedAt).toBe(at);
    expectError(r.failure, { direction: 'receive', rule: 'order' }, message);
  });

  test('a message after disconnect', async () => {
    const r = await run(['recv', ACCEPT, 'recv', 'recv'], { incoming: [CONNECT, DISCONNECT, text('late')] });
    expect(r.failedAt).toBe(3);
    expectError(r.failure, { direction: 'receive', type: 'websocket.receive', rule: 'order' }, /after 'websocket.disconnect'/);
  });

  test('a message after the app closed', async () => {
    const r = await run(['recv', ACCEPT, CLOSE, 'recv'], { incoming: [CONNECT, text('late')] });
    expectError(r.failure, { direction: 'receive', type: 'websocket.receive', rule: 'order' }, /after the app closed/);
  });

  test('a receive with both text and bytes', async () => {
    const r = await run(['recv', ACCEPT, 'recv'], { incoming: [CONNECT, { type: 'websocket.receive', text: 'a', bytes: b('a') }] });
    expectError(r.failure, { direction: 'receive', type: 'websocket.receive', rule: 'text-or-bytes', path: '/bytes' }, /^server sent invalid 'websocket.receive': exactly one of/);
  });

  test('an app-bound message the server may not send', async () => {
    const r = await run(['recv'], { incoming: [ACCEPT] });
    expectError(r.failure, { direction: 'receive', type: 'websocket.accept', rule: 'direction' });
  });

  test('a scope with malformed subprotocols', async () => {
    const r = await run(['recv', ACCEPT], { scope: scope({ subprotocols: 'chat' }) });
    expectError(r.appError, { direction: 'scope', type: 'websocket', path: '/subprotocols', rule: 'type' });
  });
});

test('the transition table: every state has a row, and only "closed"-like states refuse sends', () => {
  expect(Object.keys(WEBSOCKET).sort()).toEqual(['closed', 'connecting', 'denying', 'disconnected', 'handshake', 'open']);
  expect(WEBSOCKET.handshake).toEqual({ accept: 'open', close: 'closed', 'response.start': 'denying', disconnect: 'disconnected' });
  const machine = new WebSocketStateMachine();
  expect(machine.receive({ type: 'websocket.connect' })).toBeNull();
  expect(machine.send({ type: 'websocket.accept' })).toBeNull();
  expect(machine.state).toBe('open');
});
