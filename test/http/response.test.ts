import {
  JSONResponse,
  PlainTextResponse,
  Response,
  StreamingResponse,
  validate,
  type ASGIApp,
  type ASGISendEvent,
  type HTTPResponseStartEvent,
  type Scope,
} from '../../src/index.js';
import { fakeServer, sleep, within } from '../support/asgi.js';
import { httpScope } from '../support/messages.js';

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes ?? new Uint8Array());
const scope = httpScope() as Scope;

async function sendOf(app: ASGIApp, incoming: unknown[] = [], then?: unknown) {
  const server = fakeServer(incoming, then);
  // Every response must also satisfy the protocol rules.
  await within(2000, validate(app, { enabled: true })(scope, server.receive, server.send));
  const [start, ...rest] = server.sent as [HTTPResponseStartEvent, ...ASGISendEvent[]];
  const headers = Object.fromEntries((start.headers ?? []).map(([n, v]) => [text(n), text(v)]));
  const body = rest.map((m) => (m.type === 'http.response.body' ? text(m.body) : '')).join('');
  return { start, headers, body, sent: server.sent };
}

test('a response is itself an ASGI app, and an instance of its class', async () => {
  const response = new PlainTextResponse('Hello, world!', { status: 201, headers: { 'x-a': '1' } });
  expect(response).toBeInstanceOf(PlainTextResponse);
  expect(response).toBeInstanceOf(Response);
  const { start, headers, body } = await sendOf(response);
  expect(start.status).toBe(201);
  expect(headers).toEqual({ 'x-a': '1', 'content-type': 'text/plain; charset=utf-8', 'content-length': '13' });
  expect(body).toBe('Hello, world!');
});

test('content-length counts bytes, not characters', async () => {
  expect((await sendOf(new PlainTextResponse('café'))).headers['content-length']).toBe('5');
});

test('JSONResponse', async () => {
  const { headers, body } = await sendOf(new JSONResponse({ ok: true, n: [1, 2] }));
  expect(headers['content-type']).toBe('application/json');
  expect(JSON.parse(body)).toEqual({ ok: true, n: [1, 2] });
  expect(() => new JSONResponse(undefined)).toThrow(/no JSON form/);
});

test('bytes bodies, a given media type, and no content-length for 204', async () => {
  const bytes = await sendOf(new Response(new Uint8Array([1, 2, 3]), { mediaType: 'application/octet-stream' }));
  expect(bytes.headers).toEqual({ 'content-type': 'application/octet-stream', 'content-length': '3' });
  const empty = await sendOf(new Response(null, { status: 204 }));
  expect(empty.headers).toEqual({});
});

test('headers can be changed after construction', async () => {
  const response = new PlainTextResponse('x');
  response.headers.set('cache-control', 'no-store');
  response.headers.delete('content-type');
  expect((await sendOf(response)).headers).toEqual({ 'content-length': '1', 'cache-control': 'no-store' });
});

test('background tasks run in order after the body is sent', async () => {
  const events: string[] = [];
  const server = fakeServer();
  const response = new PlainTextResponse('x', {
    background: [async () => { await sleep(5); events.push('first'); }, () => { events.push('second'); }],
  });
  const send = server.send;
  server.send = (m) => { events.push(m.type); return send(m); };
  await response(scope, server.receive, server.send);
  expect(events).toEqual(['http.response.start', 'http.response.body', 'first', 'second']);
});

describe('StreamingResponse', () => {
  test('streams any sync or async iterable of strings or bytes, then a final empty body', async () => {
    async function* gen() {
      yield 'a';
      yield new TextEncoder().encode('b');
    }
    const fromAsync = await sendOf(new StreamingResponse(gen(), { mediaType: 'text/event-stream' }));
    expect(fromAsync.body).toBe('ab');
    expect(fromAsync.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(fromAsync.headers['content-length']).toBeUndefined();
    expect(fromAsync.sent.at(-1)).toEqual({ type: 'http.response.body', body: new Uint8Array(), more_body: false });
    expect((await sendOf(new StreamingResponse(['x', 'y', 'z']))).body).toBe('xyz');
  });

  test('stops and runs its cleanup when the client disconnects', async () => {
    let cleaned = false;
    let produced = 0;
    async function* forever() {
      try {
        for (;;) {
          produced += 1;
          yield 'tick';
          await sleep(1);
        }
      } finally {
        cleaned = true;
      }
    }
    let leave: (() => void) | undefined;
    const server = fakeServer();
    server.receive = () => new Promise((resolve) => {
      leave = () => resolve({ type: 'http.disconnect' });
    });
    const sending = new StreamingResponse(forever())(scope, server.receive, server.send);
    await sleep(20);
    leave!();
    await within(1000, sending, 'the streaming response');
    expect(cleaned).toBe(true);
    const count = produced;
    await sleep(20);
    expect(produced).toBe(count); // nothing is produced any more
    expect(server.sent.at(-1)).toMatchObject({ more_body: true }); // no final body to a client that left
  });

  test('a failed send closes the iterator too', async () => {
    let cleaned = false;
    function* items() {
      try {
        yield 'a';
        yield 'b';
      } finally {
        cleaned = true;
      }
    }
    const server = fakeServer();
    server.send = (m) => (m.type === 'http.response.body' ? Promise.reject(new Error('gone')) : Promise.resolve());
    await expect(new StreamingResponse(items())(scope, server.receive, server.send)).rejects.toThrow('gone');
    expect(cleaned).toBe(true);
  });
});
