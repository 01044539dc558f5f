import { jest } from '@jest/globals';
import {
  ProtocolError,
  validate,
  type ASGIApp,
  type ASGISendEvent,
  type MessageGuard,
  type Receive,
  type Scope,
  type Send,
} from '../../src/index.js';
import { ClientDisconnect } from '../../src/http/request.js';
import { fakeServer } from '../support/asgi.js';
import { b, httpScope } from '../support/messages.js';

const allExtensions = {
  'http.response.trailers': {},
  'http.response.pathsend': {},
  'http.response.zerocopysend': {},
  'http.response.push': {},
  'http.response.early_hint': {},
  'http.response.debug': {},
};
const scope = (overrides: Record<string, unknown> = {}) => httpScope({ extensions: allExtensions, ...overrides }) as Scope;

const start = (status = 200, headers: [Uint8Array, Uint8Array][] = [], trailers = false) =>
  ({ type: 'http.response.start', status, headers, trailers }) as ASGISendEvent;
const body = (text = '', more = false) => ({ type: 'http.response.body', body: b(text), more_body: more }) as ASGISendEvent;

/**
 * Runs `messages` through a validated app that sends them in order, collecting what each send
 * did. Returns the messages the server received and the first error.
 */
async function sendAll(messages: unknown[], opts: { scope?: Scope; incoming?: unknown[] } = {}) {
  const server = fakeServer(opts.incoming ?? [], { type: 'http.disconnect' });
  let failure: ProtocolError | undefined;
  let failedAt = -1;
  const app: ASGIApp = async (_scope, _receive, send) => {
    for (const [i, m] of messages.entries()) {
      try {
        await send(m as ASGISendEvent);
      } catch (error) {
        failure = error as ProtocolError;
        failedAt = i;
        return;
      }
    }
  };
  let appResult: unknown;
  await validate(app, { enabled: true })(opts.scope ?? scope(), server.receive, server.send).catch((e: unknown) => {
    appResult = e;
  });
  return { sent: server.sent, failure, failedAt, appResult };
}

async function expectSendError(messages: unknown[], expected: Partial<Omit<ProtocolError, 'message'>> & { message?: string | RegExp }, opts?: { scope?: Scope }) {
  const { sent, failure, failedAt } = await sendAll(messages, opts);
  expect(failure).toBeInstanceOf(ProtocolError);
  const { message, ...fields } = expected;
  expect(failure).toMatchObject({ direction: 'send', ...fields });
  if (message !== undefined) expect(failure!.message).toEqual(typeof message === 'string' ? message : expect.stringMatching(message));
  // The offending message never reached the server: it got exactly the messages before it.
  expect(sent).toHaveLength(failedAt);
  sent.forEach((m, i) => expect(m).toBe(messages[i]));
  return failure!;
}

describe('send: message shapes', () => {
  test('a wrong field type names the field, the rule and the value', async () => {
    await expectSendError([{ type: 'http.response.start', status: '200' }], {
      type: 'http.response.start', path: '/status', rule: 'type',
      message: `app sent invalid 'http.response.start': /status must be an integer (got "200")`,
    });
  });

  test('a string where bytes belong', async () => {
    await expectSendError([start(), { type: 'http.response.body', body: 'hello' }], {
      type: 'http.response.body', path: '/body', rule: 'instanceof',
      message: `app sent invalid 'http.response.body': /body must be a Uint8Array (got "hello")`,
    });
  });

  test('a missing required field', async () => {
    await expectSendError([{ type: 'http.response.start' }], { path: '/status', rule: 'required', message: `app sent invalid 'http.response.start': /status is required` });
  });

  test('an unknown message type', async () => {
    await expectSendError([{ type: 'http.response.bodyy' }], { rule: 'unknown-type', message: `app sent unknown message type 'http.response.bodyy'` });
  });

  test('something that is not a message', async () => {
    await expectSendError([null], { rule: 'unknown-type', message: `app sent null, which is not a message (an object with a string 'type')` });
  });

  test("a message only servers send", async () => {
    await expectSendError([{ type: 'http.request', body: b('') }], { rule: 'direction', message: `app sent 'http.request', which only servers send` });
  });

  test('a message of another protocol', async () => {
    await expectSendError([{ type: 'lifespan.startup.complete' }], { rule: 'direction', message: `app sent 'lifespan.startup.complete', a 'lifespan' message, on a 'http' connection` });
  });

  test('status codes: 100..599, and the start takes a final one', async () => {
    await expectSendError([start(600)], { path: '/status', rule: 'maximum' });
    await expectSendError([start(103)], { path: '/status', rule: 'final-status', message: /103 is informational/ });
    expect((await sendAll([start(599), body()])).failure).toBeUndefined();
  });
});

describe('send: header bytes', () => {
  test.each([
    ['CR', 'a\rb'], ['LF', 'a\nSet-Cookie: x=1'], ['NUL', 'a\0b'],
  ])('a %s in a header value (response splitting)', async (_name, value) => {
    await expectSendError([start(200, [[b('x-a'), b('ok')], [b('x-b'), b(value)]])], {
      path: '/headers/1/1', rule: 'header-value', message: /header value of 'x-b' has a (CR|LF|NUL) byte/,
    });
  });

  test('an upper case header name', async () => {
    await expectSendError([start(200, [[b('Content-Type'), b('text/plain')]])], { path: '/headers/0/0', rule: 'header-name', message: /"Content-Type" must be lower case/ });
  });

  test('a pseudo header', async () => {
    await expectSendError([start(200, [[b(':status'), b('200')]])], { rule: 'header-name', message: /pseudo header/ });
  });

  test('a space or colon in a name', async () => {
    await expectSendError([start(200, [[b('x y'), b('1')]])], { rule: 'header-name', message: /byte not allowed in a header name \(0x20\)/ });
  });

  test('trailers and pushes are checked too', async () => {
    await expectSendError([start(200, [], true), body(), { type: 'http.response.trailers', headers: [[b('x-sum'), b('1\r\n')]] }], { type: 'http.response.trailers', rule: 'header-value' });
    await expectSendError([start(), { type: 'http.response.push', path: '/a.css', headers: [[b('Accept'), b('*/*')]] }], { type: 'http.response.push', rule: 'header-name' });
  });

  test('values may hold tabs and non-ASCII bytes', async () => {
    expect((await sendAll([start(200, [[b('x-a'), b('a\tb é')]]), body()])).failure).toBeUndefined();
  });
});

describe('send: order', () => {
  test('body before start', async () => {
    await expectSendError([body('x')], { rule: 'order', message: `app sent 'http.response.body' before 'http.response.start'` });
  });

  test('start twice', async () => {
    await expectSendError([start(), start()], { rule: 'order', message: `app sent 'http.response.start' twice` });
  });

  test('anything after the response is complete', async () => {
    await expectSendError([start(), body('done'), body('more')], { rule: 'order', message: `app sent 'http.response.body' after the response was complete` });
    await expectSendError([start(), body(), { type: 'http.response.push', path: '/x', headers: [] }], { rule: 'order' });
  });

  test('the response ends at the first body with more_body false', async () => {
    const { sent, failure, appResult } = await sendAll([start(), body('a', true), body('b', true), body('c')]);
    expect(failure).toBeUndefined();
    expect(appResult).toBeUndefined();
    expect(sent).toHaveLength(4);
  });

  test('trailers only when announced', async () => {
    await expectSendError([start(), body(), { type: 'http.response.trailers', headers: [] }], { rule: 'order', message: /did not announce trailers|after the response was complete/ });
    await expectSendError([start(), body('a', true), { type: 'http.response.trailers', headers: [] }], { rule: 'order', message: `app sent 'http.response.trailers' but 'http.response.start' did not announce trailers (trailers: true)` });
  });

  test('announced trailers follow the last body, until more_trailers is false', async () => {
    const trailers = (more: boolean) => ({ type: 'http.response.trailers', headers: [[b('x-sum'), b('1')]], more_trailers: more });
    const ok = await sendAll([start(200, [], true), body('a', true), body('b'), trailers(true), trailers(false)]);
    expect(ok.failure).toBeUndefined();
    expect(ok.appResult).toBeUndefined();
    await expectSendError([start(200, [], true), body('a', true), trailers(false)], { rule: 'order', message: `app sent 'http.response.trailers' before the last body` });
    await expectSendError([start(200, [], true), body(), body()], { rule: 'order', message: /after the last body; the start announced trailers/ });
    await expectSendError([start(200, [], true), body(), trailers(false), trailers(false)], { rule: 'order', message: /after the response was complete/ });
  });

  test('pathsend is the whole body: right after the start, once', async () => {
    const pathsend = { type: 'http.response.pathsend', path: '/srv/index.html' };
    expect((await sendAll([start(), pathsend])).failure).toBeUndefined();
    await expectSendError([start(), body('a', true), pathsend], { message: `app sent 'http.response.pathsend' after body messages; a pathsend is the whole body` });
    await expectSendError([pathsend], { message: `app sent 'http.response.pathsend' before 'http.response.start'` });
    await expectSendError([start(), pathsend, pathsend], { message: /after the response was complete/ });
  });

  test('zerocopysend mixes with body messages', async () => {
    const zc = (more: boolean) => ({ type: 'http.response.zerocopysend', file: 7, more_body: more });
    expect((await sendAll([start(), body('a', true), zc(true), body('b', true), zc(false)])).failure).toBeUndefined();
    await expectSendError([zc(false)], { rule: 'order' });
  });

  test('push: after the start, before the last body', async () => {
    const push = { type: 'http.response.push', path: '/style.css', headers: [] };
    expect((await sendAll([start(), push, body('a', true), push, body()])).failure).toBeUndefined();
    await expectSendError([push], { rule: 'order', message: `app sent 'http.response.push' before 'http.response.start'` });
  });

  test('early hints: before the start (RFC 8297) and after it until the last body', async () => {
    const hint = { type: 'http.response.early_hint', links: [b('</a.css>; rel=preload')] };
    expect((await sendAll([hint, hint, start(), hint, body('x', true), hint, body()])).failure).toBeUndefined();
    await expectSendError([start(), body(), hint], { message: /after the response was complete/ });
  });

  test('debug: once, before the start', async () => {
    const debug = { type: 'http.response.debug', info: { template: 'a.html' } };
    expect((await sendAll([debug, start(), body()])).failure).toBeUndefined();
    await expectSendError([debug, debug], { message: `app sent 'http.response.debug' twice` });
    await expectSendError([start(), debug], { message: `app sent 'http.response.debug' after 'http.response.start'; debug info goes before the start` });
  });

  test('an extension message the server does not offer', async () => {
    await expectSendError([start(), { type: 'http.response.pathsend', path: '/a' }], {
      rule: 'extension', message: `app sent 'http.response.pathsend', but the server does not offer the 'http.response.pathsend' extension (scope.extensions)`,
    }, { scope: scope({ extensions: {} }) });
  });

  test('content-length: neither more nor fewer bytes than it says', async () => {
    const declared = start(200, [[b('content-length'), b('5')]]);
    expect((await sendAll([declared, body('he', true), body('llo')])).failure).toBeUndefined();
    await expectSendError([declared, body('hello', true), body('!', true)], { rule: 'content-length', path: '/body', message: `app sent 6 or more body bytes but 'content-length' says 5` });
    await expectSendError([declared, body('hey')], { rule: 'content-length', message: `app sent 3 body bytes but 'content-length' says 5` });
  });

  test('HEAD responses declare a length they do not send', async () => {
    const { failure } = await sendAll([start(200, [[b('content-length'), b('5')]]), body()], { scope: scope({ method: 'HEAD' }) });
    expect(failure).toBeUndefined();
  });

  test('204 and 304 have no body', async () => {
    expect((await sendAll([start(204), body()])).failure).toBeUndefined();
    await expectSendError([start(304), body('x')], { rule: 'no-body', message: 'app sent 1 body bytes in a response whose status has no body' });
  });
});

describe('app completion', () => {
  const run = (app: ASGIApp, incoming: unknown[] = [], then?: unknown) => {
    const server = fakeServer(incoming, then);
    return { server, done: validate(app, { enabled: true })(scope(), server.receive, server.send) };
  };

  test('returning without a response is reported', async () => {
    await expect(run(async () => {}).done).rejects.toMatchObject({
      name: 'ProtocolError', direction: 'send', rule: 'incomplete-response', message: `app returned without sending 'http.response.start'`,
    });
  });

  test('returning mid-body is reported', async () => {
    await expect(run(async (_s, _r, send) => {
      await send(start());
      await send(body('a', true));
    }).done).rejects.toMatchObject({ rule: 'incomplete-response', message: 'app returned before the response was complete (no body with more_body: false)' });
  });

  test('returning before the announced trailers is reported', async () => {
    await expect(run(async (_s, _r, send) => {
      await send(start(200, [], true));
      await send(body());
    }).done).rejects.toMatchObject({ message: `app returned without sending the announced 'http.response.trailers'` });
  });

  test('stopping after the client left is not a violation', async () => {
    const { done } = run(async (_s, receive, send) => {
      await send(start());
      await send(body('a', true));
      expect(await receive()).toEqual({ type: 'http.disconnect' });
    }, [{ type: 'http.disconnect' }]);
    await expect(done).resolves.toBeUndefined();
  });

  test('catching the ClientDisconnect a send raised, then returning, is not a violation', async () => {
    // The client left mid-response; the app learned it from send, never from receive.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const server = fakeServer([], { type: 'http.disconnect' });
    let sends = 0;
    const closing: Send = (m) => (++sends > 2 ? Promise.reject(new ClientDisconnect('gone')) : server.send(m));
    let caught: unknown;
    await expect(validate(async (_s, _r, send) => {
      try {
        await send(start());
        await send(body('a', true));
        await send(body('b', true));
      } catch (error) {
        caught = error;
      }
    }, { enabled: true })(scope(), server.receive, closing)).resolves.toBeUndefined();
    expect(caught).toBeInstanceOf(ClientDisconnect);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  test('returning without a response after the client left unseen is not a violation', async () => {
    // The app never sent nor received; the server answers http.disconnect, so the client is gone.
    await expect(run(async () => {}, [], { type: 'http.disconnect' }).done).resolves.toBeUndefined();
  });

  test('an unread request body is no sign that the client left: still reported', async () => {
    await expect(run(async () => {}, [{ type: 'http.request', body: b('x'), more_body: false }], { type: 'http.disconnect' }).done)
      .rejects.toMatchObject({ rule: 'incomplete-response' });
  });

  test("an app's own error passes through unchanged, with the unfinished response logged", async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const boom = new Error('boom');
    await expect(run(async (_s, _r, send) => {
      await send(start());
      throw boom;
    }).done).rejects.toBe(boom);
    expect(warn).toHaveBeenCalledWith('tsgi: app raised before the response was complete (no body with more_body: false)');
    warn.mockRestore();
  });

  test('a send after receiving http.disconnect is left to the server, which raises (ASGI 2.4)', async () => {
    // Not a protocol violation: the connection is gone and the server says so with its own error
    // (ClientDisconnect in tsgi's servers), which apps may catch. validate must not change it.
    const serverError = new Error('connection closed');
    let failure: unknown;
    const server = fakeServer([{ type: 'http.disconnect' }]);
    const forward = server.send;
    const closedSend: Send = (m) => (m.type === 'http.response.body' ? Promise.reject(serverError) : forward(m));
    await validate(async (_s, receive, send) => {
      await send(start());
      await receive();
      try {
        await send(body('late'));
      } catch (error) {
        failure = error;
      }
    }, { enabled: true })(scope(), server.receive, closedSend);
    expect(failure).toBe(serverError);
  });
});

describe('receive: what the server hands the app', () => {
  const receiveAll = async (incoming: unknown[], count: number, before?: (send: Send) => Promise<void>) => {
    const server = fakeServer(incoming);
    const got: unknown[] = [];
    let failure: unknown;
    const app: ASGIApp = async (_s, receive, send) => {
      if (before) await before(send);
      try {
        for (let i = 0; i < count; i++) got.push(await receive());
      } catch (error) {
        failure = error;
      }
      if (!before) {
        await send(start());
        await send(body());
      }
    };
    await validate(app, { enabled: true })(scope(), server.receive, server.send).catch(() => {});
    return { got, failure };
  };

  test('an invalid message is thrown from that receive() call', async () => {
    const { got, failure } = await receiveAll([{ type: 'http.request', body: 'hi' }], 1);
    expect(got).toEqual([]);
    expect(failure).toMatchObject({
      name: 'ProtocolError', direction: 'receive', type: 'http.request', path: '/body', rule: 'instanceof',
      message: `server sent invalid 'http.request': /body must be a Uint8Array (got "hi")`,
    });
  });

  test('a message apps send, handed to the app', async () => {
    const { failure } = await receiveAll([{ type: 'http.response.start', status: 200 }], 1);
    expect(failure).toMatchObject({ direction: 'receive', rule: 'direction', message: `server sent 'http.response.start', which only apps send` });
  });

  test('more body after the last chunk', async () => {
    const chunk = { type: 'http.request', body: b('a'), more_body: false };
    const { got, failure } = await receiveAll([chunk, { ...chunk }], 2);
    expect(got).toEqual([chunk]);
    expect(failure).toMatchObject({ rule: 'order', message: `server sent 'http.request' after the last body chunk (more_body was false)` });
  });

  test('after http.disconnect, only http.disconnect', async () => {
    const disconnect = { type: 'http.disconnect' };
    const { got, failure } = await receiveAll([disconnect, disconnect, { type: 'http.request', body: b('') }], 3);
    expect(got).toEqual([disconnect, disconnect]);
    expect(failure).toMatchObject({ rule: 'order', message: /after 'http.disconnect'; every later receive\(\) must return 'http.disconnect'/ });
  });

  test('after the response is complete, receive() must yield http.disconnect', async () => {
    const { failure } = await receiveAll([{ type: 'http.request', body: b('x') }], 1, async (send) => {
      await send(start());
      await send(body());
    });
    expect(failure).toMatchObject({ direction: 'receive', rule: 'order', message: /after the response was complete/ });
  });

  test('a chunked body arrives unchanged, same objects', async () => {
    const chunks = [
      { type: 'http.request', body: b('a'), more_body: true },
      { type: 'http.request', body: b('b'), more_body: false },
    ];
    const { got, failure } = await receiveAll(chunks, 2);
    expect(failure).toBeUndefined();
    expect(got[0]).toBe(chunks[0]);
    expect(got[1]).toBe(chunks[1]);
  });
});

describe('scope', () => {
  const ok: ASGIApp = async (_s, _r, send) => {
    await send(start());
    await send(body());
  };

  test('an invalid scope rejects before the app runs', async () => {
    const app = jest.fn(ok);
    const server = fakeServer();
    await expect(validate(app, { enabled: true })(scope({ method: 'get' }), server.receive, server.send)).rejects.toMatchObject({
      direction: 'scope', type: 'http', path: '/method', rule: 'pattern',
      message: `server passed an invalid 'http' scope: /method must match pattern "^[!#$%&'*+.^_\`|~0-9A-Z-]+$" (got "get")`,
    });
    expect(app).not.toHaveBeenCalled();
  });

  test('header names must be lower case in the scope', async () => {
    const server = fakeServer();
    await expect(validate(ok, { enabled: true })(scope({ headers: [[b('Host'), b('x')]] }), server.receive, server.send)).rejects.toMatchObject({
      direction: 'scope', rule: 'header-name', path: '/headers/0/0',
    });
  });

  test('something that is not a scope', async () => {
    const server = fakeServer();
    await expect(validate(ok, { enabled: true })(undefined as unknown as Scope, server.receive, server.send)).rejects.toMatchObject({ direction: 'scope', rule: 'unknown-type' });
  });

  test('unknown scope types pass through untouched, with one warning', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const seen: unknown[] = [];
    const app: ASGIApp = async (s, receive, send) => {
      seen.push([s, receive, send]);
    };
    const validated = validate(app, { enabled: true });
    const ws = { type: 'webtransport' } as unknown as Scope;
    const server = fakeServer();
    await validated(ws, server.receive, server.send);
    await validated(ws, server.receive, server.send);
    expect(seen).toEqual([[ws, server.receive, server.send], [ws, server.receive, server.send]]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toContain("no schema for 'webtransport' scopes");
    warn.mockRestore();
  });
});

describe('lifespan', () => {
  const lifespanScope = { type: 'lifespan', asgi: { version: '3.0', spec_version: '2.0' }, state: {} } as Scope;
  const run = async (incoming: unknown[], answers: (receive: Receive, send: Send) => Promise<void>) => {
    const server = fakeServer(incoming);
    let failure: unknown;
    await validate(async (_s, receive, send) => {
      try {
        await answers(receive, send);
      } catch (error) {
        failure = error;
      }
    }, { enabled: true })(lifespanScope, server.receive, server.send);
    return { sent: server.sent, failure };
  };

  test('startup, complete, shutdown, complete', async () => {
    const { sent, failure } = await run([{ type: 'lifespan.startup' }, { type: 'lifespan.shutdown' }], async (receive, send) => {
      await receive();
      await send({ type: 'lifespan.startup.complete' });
      await receive();
      await send({ type: 'lifespan.shutdown.complete' });
    });
    expect(failure).toBeUndefined();
    expect(sent.map((m) => m.type)).toEqual(['lifespan.startup.complete', 'lifespan.shutdown.complete']);
  });

  test('an answer before the question', async () => {
    const { sent, failure } = await run([], async (_receive, send) => {
      await send({ type: 'lifespan.startup.complete' });
    });
    expect(sent).toEqual([]);
    expect(failure).toMatchObject({ direction: 'send', rule: 'order', message: `app sent 'lifespan.startup.complete' while lifespan is idle` });
  });

  test('one answer per event', async () => {
    const { failure } = await run([{ type: 'lifespan.startup' }], async (receive, send) => {
      await receive();
      await send({ type: 'lifespan.startup.complete' });
      await send({ type: 'lifespan.startup.failed', message: 'second thoughts' });
    });
    expect(failure).toMatchObject({ rule: 'order', message: `app sent 'lifespan.startup.failed' while lifespan is started` });
  });

  test('the server asks for shutdown before startup was answered', async () => {
    const { failure } = await run([{ type: 'lifespan.startup' }, { type: 'lifespan.shutdown' }], async (receive) => {
      await receive();
      await receive();
    });
    expect(failure).toMatchObject({ direction: 'receive', rule: 'order', message: `server sent 'lifespan.shutdown' while lifespan is starting` });
  });

  test('a failed startup ends the conversation', async () => {
    const { failure } = await run([{ type: 'lifespan.startup' }], async (receive, send) => {
      await receive();
      await send({ type: 'lifespan.startup.failed', message: 'no database' });
      await send({ type: 'lifespan.shutdown.complete' });
    });
    expect(failure).toMatchObject({ message: `app sent 'lifespan.shutdown.complete' while lifespan is failed` });
  });

  test('an invalid lifespan message', async () => {
    const { failure } = await run([{ type: 'lifespan.startup' }], async (receive, send) => {
      await receive();
      await send({ type: 'lifespan.startup.failed', message: 7 } as unknown as ASGISendEvent);
    });
    expect(failure).toMatchObject({ path: '/message', rule: 'type', message: `app sent invalid 'lifespan.startup.failed': /message must be a string (got 7)` });
  });
});

describe('options', () => {
  const app: ASGIApp = async () => {};

  test('enabled: false returns the app itself (zero cost)', () => {
    expect(validate(app, { enabled: false })).toBe(app);
  });

  test('off by default in production, on otherwise', () => {
    const before = process.env.NODE_ENV;
    try {
      process.env.NODE_ENV = 'production';
      expect(validate(app)).toBe(app);
      process.env.NODE_ENV = 'development';
      expect(validate(app)).not.toBe(app);
      delete process.env.NODE_ENV;
      expect(validate(app)).not.toBe(app);
    } finally {
      process.env.NODE_ENV = before;
    }
  });

  test("onViolation: 'warn' logs and drops the message", async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const server = fakeServer();
    await validate(async (_s, _r, send) => {
      await send(body('early'));
      await send(start());
      await send(body('ok'));
    }, { enabled: true, onViolation: 'warn' })(scope(), server.receive, server.send);
    expect(warn).toHaveBeenCalledWith(`tsgi: app sent 'http.response.body' before 'http.response.start'`);
    expect(server.sent).toEqual([start(), body('ok')]);
    warn.mockRestore();
  });

  test('onViolation: a function is handed each ProtocolError, and the message is dropped', async () => {
    const seen: ProtocolError[] = [];
    const server = fakeServer();
    await validate(async (_s, _r, send) => {
      await send(start(200, [[b('x'), b('a\nb')]]));
      await send(start());
      await send(body());
      await send(body());
    }, { enabled: true, onViolation: (e) => seen.push(e) })(scope(), server.receive, server.send);
    expect(seen.map((e) => e.rule)).toEqual(['header-value', 'order']);
    expect(server.sent).toHaveLength(2);
  });

  test('onViolation: a function also hears of an unfinished response, and the app resolves', async () => {
    const seen: ProtocolError[] = [];
    const server = fakeServer();
    await expect(validate(app, { enabled: true, onViolation: (e) => seen.push(e) })(scope(), server.receive, server.send)).resolves.toBeUndefined();
    expect(seen.map((e) => e.rule)).toEqual(['incomplete-response']);
  });

  test("messages: your own extension's guards are used", async () => {
    const guard: MessageGuard = {
      type: 'example.stats', protocol: 'http', direction: 'send', extension: 'example.stats',
      is: (v) => typeof (v as { elapsed_ms?: unknown }).elapsed_ms === 'number',
      explain: () => ({ path: '/elapsed_ms', rule: 'type', message: 'must be a number', value: undefined }),
    };
    const stats = { type: 'example.stats', elapsed_ms: 3 } as unknown as ASGISendEvent;
    const run = async (message: ASGISendEvent, extensions: object) => {
      const server = fakeServer();
      let failure: unknown;
      await validate(async (_s, _r, send) => {
        await send(start());
        await send(message).catch((e: unknown) => { failure = e; });
        await send(body());
      }, { enabled: true, messages: new Map([[guard.type, guard]]) })(scope({ extensions }), server.receive, server.send);
      return { sent: server.sent, failure };
    };
    expect((await run(stats, { 'example.stats': {} })).sent).toContain(stats);
    expect((await run({ type: 'example.stats' } as unknown as ASGISendEvent, { 'example.stats': {} })).failure).toMatchObject({ rule: 'type', path: '/elapsed_ms' });
    expect((await run(stats, {})).failure).toMatchObject({ rule: 'extension' });
  });
});
