/**
 * The fast path of baseHTTPMiddleware: a dispatch that takes callNext's response and returns it
 * (headers or status changed or not) must not build the channel that body-reading dispatches
 * need. Counted through Rendezvous.constructed, so a change that quietly falls back to the
 * channel for such dispatches fails here, whatever it does to the timings.
 */
import {
  baseHTTPMiddleware,
  PlainTextResponse,
  StreamingResponse,
  type ASGIApp,
  type ASGISendEvent,
  type Dispatch,
  type HTTPResponseStartEvent,
  type Scope,
} from '../../src/index.js';
import { TAKEN } from '../../src/http/protocol-constants.js';
import { Rendezvous } from '../../src/middleware/rendezvous.js';
import { fakeServer, sleep, within } from '../support/asgi.js';
import { b, httpScope } from '../support/messages.js';
import { countingTurns } from '../support/turns.js';

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes ?? new Uint8Array());
const request = { type: 'http.request', body: b(''), more_body: false };

async function channelsBuilt(app: ASGIApp): Promise<{ channels: number; sent: ASGISendEvent[] }> {
  const server = fakeServer([request], { type: 'http.disconnect' });
  const before = Rendezvous.constructed;
  await within(3000, app(httpScope() as Scope, server.receive, server.send), 'the middleware');
  return { channels: Rendezvous.constructed - before, sent: server.sent };
}

const setsHeader: Dispatch = async (req, callNext) => {
  const response = await callNext(req);
  response.headers.set('x-fast', 'yes');
  return response;
};
const startOf = (sent: ASGISendEvent[]) => sent.find((m): m is HTTPResponseStartEvent => m.type === 'http.response.start');
const header = (start: HTTPResponseStartEvent | undefined, name: string) => {
  const pair = start?.headers?.find(([n]) => text(n) === name);
  return pair ? text(pair[1]) : undefined;
};

test('a header-only dispatch takes the fast path: no channel is built', async () => {
  const { channels, sent } = await channelsBuilt(baseHTTPMiddleware(new PlainTextResponse('hello'), setsHeader));
  expect(channels).toBe(0);
  expect(header(startOf(sent), 'x-fast')).toBe('yes');
  expect(sent.filter((m) => m.type === 'http.response.body').map((m) => text((m as { body: Uint8Array }).body))).toEqual(['hello']);
});

test('ten stacked header-only dispatches: no channel at any level', async () => {
  let app: ASGIApp = new PlainTextResponse('deep');
  for (let i = 0; i < 10; i++) {
    app = baseHTTPMiddleware(app, async (req, callNext) => {
      const response = await callNext(req);
      response.headers.append('x-level', String(i));
      return response;
    });
  }
  const { channels, sent } = await channelsBuilt(app);
  expect(channels).toBe(0);
  expect(startOf(sent)?.headers?.filter(([n]) => text(n) === 'x-level')).toHaveLength(10);
});

test('a pass-through, a status change, a streamed body and a dispatch that waits: all on the fast path', async () => {
  async function* parts() {
    yield 'a';
    await sleep(1);
    yield 'b';
  }
  const cases: [ASGIApp, Dispatch][] = [
    [new PlainTextResponse('x'), (req, callNext) => callNext(req)],
    [new PlainTextResponse('x'), async (req, callNext) => {
      const response = await callNext(req);
      response.status = 201;
      return response;
    }],
    [new StreamingResponse(parts()), setsHeader],
    [new PlainTextResponse('x'), async (req, callNext) => {
      const response = await callNext(req);
      await sleep(5); // the downstream's first body chunk waits meanwhile
      return response;
    }],
  ];
  for (const [endpoint, dispatch] of cases) {
    const { channels, sent } = await channelsBuilt(baseHTTPMiddleware(endpoint, dispatch));
    expect(channels).toBe(0);
    expect(sent.at(-1)).toMatchObject({ type: 'http.response.body' });
  }
});

test('iterating the body moves to the channel (so the counter does count)', async () => {
  const { channels, sent } = await channelsBuilt(baseHTTPMiddleware(new PlainTextResponse('read me'), async (req, callNext) => {
    const response = (await callNext(req)) as StreamingResponse;
    const chunks: string[] = [];
    for await (const chunk of response.bodyIterator as AsyncIterable<Uint8Array>) chunks.push(text(chunk));
    return new PlainTextResponse(chunks.join('').toUpperCase());
  }));
  expect(channels).toBe(1);
  expect(text((sent.at(-1) as { body: Uint8Array }).body)).toBe('READ ME');
});

describe('a send the client refuses, on the fast path', () => {
  test.each([1, 3])('%i deep: the app\'s send resolves quietly, it is told the client is gone, and the middleware fails with the error', async (depth) => {
    const refused = new Error('client gone');
    const seen: string[] = [];
    const endpoint: ASGIApp = async (_s, receive, send) => {
      await send({ type: 'http.response.start', status: 200, headers: [] });
      try {
        await send({ type: 'http.response.body', body: b('1'), more_body: true });
        seen.push('send resolved');
      } catch {
        seen.push('send rejected');
      }
      await send({ type: 'http.response.body', body: b('2'), more_body: true });
      seen.push((await receive()).type);
    };
    let app = endpoint;
    for (let i = 0; i < depth; i++) app = baseHTTPMiddleware(app, setsHeader);
    const server = fakeServer([request], 'never');
    const delivered: ASGISendEvent[] = [];
    server.send = (message) => {
      if (message.type === 'http.response.body') return Promise.reject(refused);
      delivered.push(message);
      return Promise.resolve();
    };
    const before = Rendezvous.constructed;
    await expect(within(3000, app(httpScope() as Scope, server.receive, server.send), 'the middleware')).rejects.toBe(refused);
    expect(seen).toEqual(['send resolved', 'http.disconnect']);
    expect(delivered.map((m) => m.type)).toEqual(['http.response.start']);
    expect(Rendezvous.constructed - before).toBe(0);
  });
});

test('background tasks of dispatch run in its async context, not the app\'s', async () => {
  const { AsyncLocalStorage } = await import('node:async_hooks');
  const context = new AsyncLocalStorage<string>();
  let seenByTask: string | undefined = 'not run';
  const endpoint: ASGIApp = async (_s, _r, send) => {
    context.enterWith('set by the app');
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await sleep(5); // the last message comes once the response is on its way
    await send({ type: 'http.response.body', body: b('ok') });
  };
  const app = baseHTTPMiddleware(endpoint, async (req, callNext) => {
    const response = await callNext(req);
    response.background = () => {
      seenByTask = context.getStore();
    };
    return response;
  });
  const server = fakeServer([request], 'never');
  await context.run('outer', () => within(3000, app(httpScope() as Scope, server.receive, server.send), 'the middleware'));
  expect(seenByTask).toBe('outer');
});

describe('a client send that throws instead of rejecting, on the fast path', () => {
  test.each(['http.response.start', 'http.response.body'])('thrown at %s: the middleware fails with it, the app is let go, nothing goes unhandled', async (at) => {
    const thrown = new Error(`send threw at ${at}`);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let finished = false;
      const endpoint: ASGIApp = async (_s, receive, send) => {
        try {
          await send({ type: 'http.response.start', status: 200, headers: [] });
          await send({ type: 'http.response.body', body: b('1'), more_body: true });
          await send({ type: 'http.response.body', body: b('2') });
          while ((await receive()).type !== 'http.disconnect');
        } finally {
          finished = true;
        }
      };
      const server = fakeServer([request], 'never');
      server.send = (message) => {
        if (message.type === at) throw thrown;
        server.sent.push(message);
        return Promise.resolve();
      };
      const app = baseHTTPMiddleware(endpoint, setsHeader);
      await expect(within(3000, app(httpScope() as Scope, server.receive, server.send), 'the middleware')).rejects.toBe(thrown);
      expect(finished).toBe(true);
      await sleep(5);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('a client send that throws inside the relay, where nobody could catch it', () => {
  /** Runs `app` against a client whose send does `client(message)`; the outcome, the app's end, and what went unhandled. */
  async function outcome(app: ASGIApp, client: (message: ASGISendEvent, inner: (m: ASGISendEvent) => Promise<void>) => Promise<void>) {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const server = fakeServer([request], 'never');
      const inner = server.send;
      server.send = (message) => client(message, inner);
      const error = await within(3000, app(httpScope() as Scope, server.receive, server.send), 'the middleware').then(() => undefined, (e: unknown) => e);
      await sleep(20);
      return { error: (error as Error | undefined)?.message, unhandled };
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }

  test('after a debug message, a send that throws at the start fails the middleware; the app is let go', async () => {
    let finished = false;
    const endpoint: ASGIApp = async (_s, _r, send) => {
      try {
        await send({ type: 'http.response.debug', info: {} });
        await send({ type: 'http.response.start', status: 200, headers: [] });
        await send({ type: 'http.response.body', body: b('x') });
      } finally {
        finished = true;
      }
    };
    const result = await outcome(baseHTTPMiddleware(endpoint, setsHeader), (message, inner) => {
      if (message.type === 'http.response.start') throw new Error('threw at the start');
      return inner(message);
    });
    expect(result).toEqual({ error: 'threw at the start', unhandled: [] });
    expect(finished).toBe(true);
  });

  test('with tasks attached after dispatch returned, a send that throws at the body fails the middleware; the app is let go', async () => {
    let finished = false;
    const endpoint: ASGIApp = async (_s, _r, send) => {
      try {
        await send({ type: 'http.response.start', status: 200, headers: [] });
        await send({ type: 'http.response.body', body: b('x') });
      } finally {
        finished = true;
      }
    };
    const app = baseHTTPMiddleware(endpoint, async (req, callNext) => {
      const response = await callNext(req);
      setTimeout(() => { response.background = async () => {}; }, 0);
      return response;
    });
    const result = await outcome(app, (message, inner) => {
      if (message.type === 'http.response.start') return sleep(5).then(() => inner(message));
      if (message.type === 'http.response.body') throw new Error('threw at the body');
      return inner(message);
    });
    expect(result).toEqual({ error: 'threw at the body', unhandled: [] });
    expect(finished).toBe(true);
  });
});

test('a server whose send returns TAKEN spares the middleware a turn for the waiting message and one for its release', async () => {
  const endpoint: ASGIApp = async (_s, _r, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: b('held while dispatch works'), more_body: true });
    await send({ type: 'http.response.body', body: b('passed straight') });
  };
  const app = baseHTTPMiddleware(endpoint, setsHeader);
  async function turns(sent: () => Promise<void>): Promise<{ turns: number; bodies: string[] }> {
    const server = fakeServer([request], 'never');
    server.send = (message) => {
      server.sent.push(message);
      return sent();
    };
    const count = await countingTurns(async (turn) => {
      await within(3000, app(httpScope() as Scope, server.receive, server.send), 'the middleware');
      return turn();
    });
    return { turns: count, bodies: server.sent.filter((m) => m.type === 'http.response.body').map((m) => text((m as { body: Uint8Array }).body)) };
  }
  const fresh = await turns(() => Promise.resolve());
  const taken = await turns(() => TAKEN);
  expect(taken.bodies).toEqual(fresh.bodies);
  expect(taken.bodies).toEqual(['held while dispatch works', 'passed straight']);
  // One turn less for the waiting message, one less for its release, one less for the message passed straight.
  expect(taken.turns).toBe(fresh.turns - 3);
});
