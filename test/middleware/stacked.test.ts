/**
 * baseHTTPMiddlewares stacked directly on one another (each the app of the next, sharing its
 * send): the calls hand messages and their ends to each other without a promise in between. Each
 * layer must still behave as if alone: header changes in order, errors, early answers, a client
 * that leaves, and no call ending before the app below it has.
 */
import {
  baseHTTPMiddleware,
  PlainTextResponse,
  type ASGIApp,
  type ASGISendEvent,
  type Dispatch,
  type HTTPResponseBodyEvent,
  type HTTPResponseStartEvent,
  type Scope,
  type StreamingResponse,
} from '../../src/index.js';
import { Rendezvous } from '../../src/middleware/rendezvous.js';
import { fakeServer, sleep, within, type FakeServer } from '../support/asgi.js';
import { b, httpScope } from '../support/messages.js';
import { countingTurns } from '../support/turns.js';

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes ?? new Uint8Array());
const request = { type: 'http.request', body: b(''), more_body: false };
const startOf = (sent: ASGISendEvent[]) => sent.find((m): m is HTTPResponseStartEvent => m.type === 'http.response.start');
const bodiesOf = (sent: ASGISendEvent[]) => sent.filter((m): m is HTTPResponseBodyEvent => m.type === 'http.response.body');
const values = (start: HTTPResponseStartEvent | undefined, name: string) =>
  (start?.headers ?? []).filter(([n]) => text(n) === name).map(([, v]) => text(v));

/** `dispatches` from the innermost out, each wrapping the app directly. */
function stack(app: ASGIApp, dispatches: Dispatch[]): ASGIApp {
  for (const dispatch of dispatches) app = baseHTTPMiddleware(app, dispatch);
  return app;
}

/** An app that counts its runs and ends, so a test can tell it finished before the middleware did. */
function counted(app: ASGIApp) {
  const state = { started: 0, finished: 0 };
  const wrapped: ASGIApp = async (s, r, send) => {
    state.started += 1;
    try {
      await app(s, r, send);
    } finally {
      state.finished += 1;
    }
  };
  return { app: wrapped, state };
}

const serve = (app: ASGIApp, server: FakeServer = fakeServer([request], { type: 'http.disconnect' })) =>
  within(3000, app(httpScope() as Scope, server.receive, server.send), 'the middleware stack').then(() => server);

test('each layer sees the changes of the layers below and adds its own, in order', async () => {
  const seen: string[][] = [];
  const layer = (name: string): Dispatch => async (req, callNext) => {
    const response = await callNext(req);
    seen.push(response.headers.getAll('x-order'));
    response.headers.append('x-order', name);
    if (name === 'middle') response.status = 203;
    return response;
  };
  const server = await serve(stack(new PlainTextResponse('body'), [layer('inner'), layer('middle'), layer('outer')]));
  expect(seen).toEqual([[], ['inner'], ['inner', 'middle']]);
  expect(values(startOf(server.sent), 'x-order')).toEqual(['inner', 'middle', 'outer']);
  expect(startOf(server.sent)?.status).toBe(203);
  expect(bodiesOf(server.sent).map((m) => text(m.body))).toEqual(['body']);
});

test('an app error mid-stream reaches the outermost call, and the client never gets a final body', async () => {
  const error = new Error('broken stream');
  const { app, state } = counted(async (_s, _r, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: b('part'), more_body: true });
    throw error;
  });
  const passthrough: Dispatch = (req, callNext) => callNext(req);
  const server = fakeServer([request], 'never');
  await expect(serve(stack(app, [passthrough, passthrough, passthrough]), server)).rejects.toBe(error);
  expect(bodiesOf(server.sent).map((m) => [text(m.body), m.more_body])).toEqual([['part', true]]);
  expect(state).toEqual({ started: 1, finished: 1 });
});

test('an app error before the start rejects every callNext on the way up; a layer may answer it', async () => {
  const error = new Error('no start');
  const rejected: string[] = [];
  const rethrows = (name: string): Dispatch => async (req, callNext) => {
    try {
      return await callNext(req);
    } catch (caught) {
      rejected.push(`${name}: ${(caught as Error).message}`);
      throw caught;
    }
  };
  const { app } = counted(async () => {
    throw error;
  });
  await expect(serve(stack(app, [rethrows('inner'), rethrows('outer')]))).rejects.toBe(error);
  expect(rejected).toEqual(['inner: no start', 'outer: no start']);

  const answers: Dispatch = async (req, callNext) => {
    try {
      return await callNext(req);
    } catch (caught) {
      return new PlainTextResponse(`answered: ${(caught as Error).message}`, { status: 500 });
    }
  };
  const marks: Dispatch = async (req, callNext) => {
    const response = await callNext(req);
    response.headers.set('x-outer', 'seen');
    return response;
  };
  const server = await serve(stack(app, [answers, marks]));
  expect(startOf(server.sent)?.status).toBe(500);
  expect(values(startOf(server.sent), 'x-outer')).toEqual(['seen']);
  expect(text(bodiesOf(server.sent).at(-1)?.body)).toBe('answered: no start');
});

test('a middle layer that answers without calling callNext: the app never runs, the outer layer still applies', async () => {
  const { app, state } = counted(new PlainTextResponse('never sent'));
  const marks: Dispatch = async (req, callNext) => {
    const response = await callNext(req);
    response.headers.set('x-outer', 'yes');
    return response;
  };
  const answers: Dispatch = async () => new PlainTextResponse('from the middle');
  const server = await serve(stack(app, [marks, answers, marks]));
  expect(state.started).toBe(0);
  expect(values(startOf(server.sent), 'x-outer')).toEqual(['yes']);
  expect(text(bodiesOf(server.sent).at(-1)?.body)).toBe('from the middle');
});

test('a middle layer that fails after callNext: the outer callNext rejects with it, and the app is let go first', async () => {
  const failure = new Error('middle failed');
  // Only returns once it is told the client is gone.
  const { app, state } = counted(async (_s, receive, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: b('1'), more_body: true });
    while ((await receive()).type !== 'http.disconnect');
  });
  const passthrough: Dispatch = (req, callNext) => callNext(req);
  const fails: Dispatch = async (req, callNext) => {
    await callNext(req);
    throw failure;
  };
  let caught: unknown;
  const recovers: Dispatch = async (req, callNext) => {
    try {
      return await callNext(req);
    } catch (error) {
      caught = error;
      expect(state.finished).toBe(1);
      return new PlainTextResponse('recovered', { status: 502 });
    }
  };
  const server = await serve(stack(app, [passthrough, fails, recovers]), fakeServer([request], 'never'));
  expect(caught).toBe(failure);
  expect(startOf(server.sent)?.status).toBe(502);
  expect(state).toEqual({ started: 1, finished: 1 });
});

test('ten deep, a client that goes away mid-response: the app is told, and the outermost call fails with why', async () => {
  const refused = new Error('client gone');
  const seen: string[] = [];
  const { app, state } = counted(async (_s, receive, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: b('1'), more_body: true });
    seen.push('first body sent');
    await send({ type: 'http.response.body', body: b('2'), more_body: true });
    seen.push('second body resolved');
    seen.push((await receive()).type);
  });
  const setsHeader: Dispatch = async (req, callNext) => {
    const response = await callNext(req);
    response.headers.append('x-layer', '1');
    return response;
  };
  const server = fakeServer([request], 'never');
  let bodies = 0;
  server.send = (message) => {
    server.sent.push(message);
    if (message.type === 'http.response.body' && ++bodies === 2) return Promise.reject(refused);
    return Promise.resolve();
  };
  await expect(serve(stack(app, Array.from({ length: 10 }, () => setsHeader)), server)).rejects.toBe(refused);
  expect(seen).toEqual(['first body sent', 'second body resolved', 'http.disconnect']);
  expect(values(startOf(server.sent), 'x-layer')).toHaveLength(10);
  expect(state).toEqual({ started: 1, finished: 1 });
});

test('the outermost call ends only after the app has, even when the app works on past its last message', async () => {
  let finishedAt = 0;
  const app: ASGIApp = async (_s, _r, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: b('done') });
    await sleep(20);
    finishedAt = Date.now();
  };
  const passthrough: Dispatch = (req, callNext) => callNext(req);
  let endedAt = 0;
  await serve(stack(app, Array.from({ length: 5 }, () => passthrough))).then(() => (endedAt = Date.now()));
  expect(finishedAt).toBeGreaterThan(0);
  expect(endedAt).toBeGreaterThanOrEqual(finishedAt);
});

test('a body-reading layer in the middle of fast-path layers: one channel, every layer applied', async () => {
  const inner: Dispatch = async (req, callNext) => {
    const response = await callNext(req);
    response.headers.set('x-inner', '1');
    return response;
  };
  let innerHeaderSeen: string | null = null;
  const upperCases: Dispatch = async (req, callNext) => {
    const response = (await callNext(req)) as StreamingResponse;
    innerHeaderSeen = response.headers.get('x-inner');
    const parts: string[] = [];
    for await (const part of response.bodyIterator as AsyncIterable<Uint8Array>) parts.push(text(part));
    return new PlainTextResponse(parts.join('').toUpperCase());
  };
  const outer: Dispatch = async (req, callNext) => {
    const response = await callNext(req);
    response.headers.set('x-outer', '1');
    return response;
  };
  const before = Rendezvous.constructed;
  const server = await serve(stack(new PlainTextResponse('quiet'), [inner, upperCases, outer]));
  expect(Rendezvous.constructed - before).toBe(1);
  expect(innerHeaderSeen).toBe('1');
  expect(values(startOf(server.sent), 'x-outer')).toEqual(['1']);
  expect(values(startOf(server.sent), 'x-inner')).toEqual([]);
  expect(text(bodiesOf(server.sent).at(-1)?.body)).toBe('QUIET');
});

test('an app that calls the inner middleware and does more after it is waited for in full', async () => {
  let after = false;
  const passthrough: Dispatch = (req, callNext) => callNext(req);
  const inner = baseHTTPMiddleware(new PlainTextResponse('x'), passthrough);
  // Same send, called at once, but its own promise: the inner call's end is not this app's.
  const app: ASGIApp = (s, r, send) => inner(s, r, send).then(async () => {
    await sleep(10);
    after = true;
  });
  await serve(baseHTTPMiddleware(app, passthrough));
  expect(after).toBe(true);
});

test('an app that returns the inner middleware\'s promise and also waits on it: that wait ends too', async () => {
  const passthrough: Dispatch = (req, callNext) => callNext(req);
  for (const fails of [false, true]) {
    const error = new Error('inner failed');
    const inner = baseHTTPMiddleware(fails ? async () => { throw error; } : new PlainTextResponse('x'), passthrough);
    let observe!: (outcome: string) => void;
    const observed = new Promise<string>((resolve) => (observe = resolve));
    const app: ASGIApp = (s, r, send) => {
      const running = inner(s, r, send);
      running.then(() => observe('resolved'), () => observe('rejected'));
      return running;
    };
    const outcome = serve(baseHTTPMiddleware(app, passthrough));
    if (fails) await expect(outcome).rejects.toBe(error);
    else await outcome;
    expect(await within(1000, observed, 'the other wait')).toBe(fails ? 'rejected' : 'resolved');
  }
});

test('an app that ends before dispatch returns, its response unfinished: every layer fails with why', async () => {
  const app: ASGIApp = async (_s, _r, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
  };
  const waits: Dispatch = async (req, callNext) => {
    const response = await callNext(req);
    await sleep(10); // the app has returned meanwhile
    return response;
  };
  const server = fakeServer([request], 'never');
  await expect(serve(stack(app, [waits, waits]), server)).rejects.toThrow(/returned before completing its response/);
  expect(server.sent.map((m) => m.type)).toEqual(['http.response.start']);
});

describe('stacked layers do not multiply promise hops', () => {
  const setsHeader: Dispatch = async (req, callNext) => {
    const response = await callNext(req);
    response.headers.append('x-layer', '1');
    return response;
  };

  /** Turns from the server taking the held first body to the app's send resolving, and from the app's end to the stack's. */
  async function hops(depth: number): Promise<{ release: number; end: number }> {
    return countingTurns(async (turn) => {
      let delivered = -1;
      // The app returns in the same turn as its last send resolves.
      let resumed = -1;
      const app: ASGIApp = async (_s, _r, send) => {
        await send({ type: 'http.response.start', status: 200, headers: [] });
        await send({ type: 'http.response.body', body: b('held while dispatch works') });
        resumed = turn();
      };
      const server = fakeServer([request], 'never');
      server.send = (message) => {
        if (message.type === 'http.response.body') delivered = turn();
        return Promise.resolve();
      };
      const stacked = stack(app, Array.from({ length: depth }, () => setsHeader));
      let ended = -1;
      await stacked(httpScope() as Scope, server.receive, server.send).then(() => (ended = turn()));
      return { release: resumed - delivered, end: ended - resumed };
    });
  }

  test('ten layers release the app and report its end in as many turns as one', async () => {
    const one = await hops(1);
    const ten = await hops(10);
    expect(ten.release).toBe(one.release);
    expect(ten.end).toBe(one.end);
    expect(one.release).toBeLessThanOrEqual(3);
    expect(one.end).toBeLessThanOrEqual(3);
  });
});

describe('a layer started by the layer above it', () => {
  const setsHeader: Dispatch = async (req, callNext) => {
    const response = await callNext(req);
    response.headers.append('x-layer', '1');
    return response;
  };
  const hello: ASGIApp = async (_s, _r, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: b('hello') });
  };

  test('makes no promise of its own: only the outermost call hands one out', async () => {
    const { Downstream } = await import('../../src/middleware/downstream.js');
    const own = Object.getOwnPropertyDescriptor(Downstream.prototype, 'result')!;
    let asked = 0;
    Object.defineProperty(Downstream.prototype, 'result', {
      ...own,
      get(this: unknown) {
        asked += 1;
        return own.get!.call(this);
      },
    });
    try {
      const server = await serve(stack(hello, Array.from({ length: 10 }, () => setsHeader)));
      expect(values(startOf(server.sent), 'x-layer')).toHaveLength(10);
      expect(text(bodiesOf(server.sent)[0]?.body)).toBe('hello');
      expect(asked).toBe(1);
    } finally {
      Object.defineProperty(Downstream.prototype, 'result', own);
    }
  });

  test('a dispatch below that throws synchronously fails the callNext above with its error', async () => {
    const boom = new Error('inner dispatch threw');
    const throws: Dispatch = () => {
      throw boom;
    };
    let caught: unknown;
    const catches: Dispatch = async (req, callNext) => {
      try {
        return await callNext(req);
      } catch (error) {
        caught = error;
        return new PlainTextResponse('recovered', { status: 502 });
      }
    };
    const server = await serve(stack(hello, [throws, catches]));
    expect(caught).toBe(boom);
    expect(startOf(server.sent)?.status).toBe(502);
    expect(text(bodiesOf(server.sent)[0]?.body)).toBe('recovered');

    // Uncaught, it is what the whole stack rejects with.
    await expect(serve(stack(hello, [throws, setsHeader, setsHeader]))).rejects.toBe(boom);
  });

  test('a layer below that fails after its response is out fails every layer above with the same error', async () => {
    const late = new Error('after the body');
    const failsLate: ASGIApp = async (s, r, send) => {
      await hello(s, r, send);
      throw late;
    };
    await expect(serve(stack(failsLate, [setsHeader, setsHeader, setsHeader]))).rejects.toBe(late);
  });
});

test('apps started in the same turn by many calls each run in the async context of their own callNext', async () => {
  const { AsyncLocalStorage } = await import('node:async_hooks');
  const context = new AsyncLocalStorage<string>();
  const seen = new Map<string, string | undefined>();
  const app: ASGIApp = async (scope, _r, send) => {
    seen.set(String((scope as { path: string }).path), context.getStore());
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: b('') });
  };
  // Each request calls callNext in a context of its own, all before any app has started.
  const tags: Dispatch = (req, callNext) => context.run(`ctx ${req.scope.path}`, () => callNext(req));
  const stacked = stack(app, [tags, tags]);
  const paths = Array.from({ length: 8 }, (_, i) => `/r${i}`);
  await within(3000, Promise.all(paths.map((path) => {
    const server = fakeServer([request], { type: 'http.disconnect' });
    return stacked({ ...httpScope(), path } as Scope, server.receive, server.send);
  })), 'eight requests');
  for (const path of paths) expect(seen.get(path)).toBe(`ctx ${path}`);
});

describe('a function standing in for a stacked middleware is called as itself', () => {
  const setsHeader: Dispatch = async (req, callNext) => {
    const response = await callNext(req);
    response.headers.append('x-layer', '1');
    return response;
  };
  const hello: ASGIApp = async (_s, _r, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: b('hello') });
  };

  test('an app that copies a middleware\'s own properties is still called as itself under another middleware', async () => {
    const inner = baseHTTPMiddleware(hello, setsHeader);
    let calls = 0;
    const wrapper: ASGIApp = Object.assign((s: Scope, r: Parameters<ASGIApp>[1], send: Parameters<ASGIApp>[2]) => {
      calls += 1;
      return inner(s, r, send);
    }, inner);
    const server = await serve(baseHTTPMiddleware(wrapper, setsHeader));
    expect(calls).toBe(1);
    expect(values(startOf(server.sent), 'x-layer')).toEqual(['1', '1']);
  });

  test('a Proxy around a middleware, a function inheriting from one, or a full copy of its properties runs its own code when stacked', async () => {
    const inner = baseHTTPMiddleware(hello, setsHeader);
    /** Adds `x-wrapped` on the way out, as a tracer or an error reporter wrapping the app would act. */
    const wrapped = (s: Scope, r: Parameters<ASGIApp>[1], send: Parameters<ASGIApp>[2]) => inner(s, r, (message) =>
      send(message.type === 'http.response.start' ? { ...message, headers: [...(message.headers ?? []), [b('x-wrapped'), b('1')]] } : message));
    const proxy = new Proxy(inner, { apply: (_target, _this, args: Parameters<ASGIApp>) => wrapped(...args) });
    const inheriting = Object.setPrototypeOf((...args: Parameters<ASGIApp>) => wrapped(...args), inner) as ASGIApp;
    const copied = Object.defineProperties((...args: Parameters<ASGIApp>) => wrapped(...args), Object.getOwnPropertyDescriptors(inner)) as ASGIApp;
    for (const [name, app] of [['proxy', proxy], ['inheriting', inheriting], ['copied', copied]] as const) {
      const server = await serve(baseHTTPMiddleware(app, setsHeader));
      expect([name, values(startOf(server.sent), 'x-wrapped'), values(startOf(server.sent), 'x-layer')]).toEqual([name, ['1'], ['1', '1']]);
    }
  });
});
