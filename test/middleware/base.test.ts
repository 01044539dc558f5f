/**
 * baseHTTPMiddleware against the behaviour catalogue (shared/reference/base-middleware-behaviours.md):
 * one test per behaviour, named by its title, driven at the ASGI level with scripted clients.
 * Every test is bounded: a regression fails it within seconds instead of hanging the suite.
 */
import { jest } from '@jest/globals';
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  baseHTTPMiddleware,
  PlainTextResponse,
  Request,
  StreamingResponse,
  type ASGIApp,
  type ASGIReceiveEvent,
  type ASGISendEvent,
  type Dispatch,
  type HTTPResponseBodyEvent,
  type HTTPResponseStartEvent,
  type Receive,
  type Scope,
  type Send,
} from '../../src/index.js';
import { sleep, within } from '../support/asgi.js';
import { b, httpScope } from '../support/messages.js';

jest.setTimeout(5000);

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes ?? new Uint8Array());
const scope = (extensions: Record<string, object> = {}) => httpScope({ extensions }) as Scope;
const passthrough: Dispatch = (request, callNext) => callNext(request);
const disconnect = { type: 'http.disconnect' } as const;
const chunk = (body: string, more = false): ASGIReceiveEvent => ({ type: 'http.request', body: b(body), more_body: more });

// Behaviour 27, "no dangling work", is checked after every test: each downstream app call made
// through `tracked` must have settled by the time the test's middleware promise resolved.
let started = 0;
let finished = 0;
function tracked(app: ASGIApp): ASGIApp {
  return async (s, r, send) => {
    started += 1;
    try {
      await app(s, r, send);
    } finally {
      finished += 1;
    }
  };
}
beforeEach(() => {
  started = 0;
  finished = 0;
});
afterEach(() => {
  expect(finished).toBe(started);
});

interface Client {
  receive: Receive;
  send: Send;
  sent: ASGISendEvent[];
  receiveCalls: number;
}

/** A client that sends `messages`, then (optionally) answers every further receive with `then`. */
function client(messages: ASGIReceiveEvent[] = [], then?: ASGIReceiveEvent | 'never' | 'forbidden'): Client {
  const queue = [...messages];
  const c: Client = {
    sent: [],
    receiveCalls: 0,
    receive: () => {
      c.receiveCalls += 1;
      const next = queue.shift();
      if (next !== undefined) return Promise.resolve(next);
      if (then === 'forbidden') return Promise.reject(new Error('the client receive must not be called'));
      if (then === undefined || then === 'never') return new Promise(() => {});
      return Promise.resolve(then);
    },
    send: (message) => {
      c.sent.push(message);
      return Promise.resolve();
    },
  };
  return c;
}

const run = (app: ASGIApp, c: Client, s: Scope = scope()) => within(3000, app(s, c.receive, c.send), 'the middleware');
const starts = (c: Client) => c.sent.filter((m): m is HTTPResponseStartEvent => m.type === 'http.response.start');
const bodies = (c: Client) => c.sent.filter((m): m is HTTPResponseBodyEvent => m.type === 'http.response.body');
const bodyText = (c: Client) => bodies(c).map((m) => text(m.body)).join('');
const header = (m: HTTPResponseStartEvent | undefined, name: string) => {
  const pair = m?.headers?.find(([n]) => text(n) === name);
  return pair ? text(pair[1]) : undefined;
};

test('adds a header to the downstream response', async () => {
  const app = baseHTTPMiddleware(tracked(new PlainTextResponse('downstream body')), async (request, callNext) => {
    const response = await callNext(request);
    response.headers.set('x-custom', 'added');
    return response;
  });
  const c = client([chunk('')], disconnect);
  await run(app, c);
  expect(header(starts(c)[0], 'x-custom')).toBe('added');
  expect(header(starts(c)[0], 'content-type')).toBe('text/plain; charset=utf-8');
  expect(bodyText(c)).toBe('downstream body');
});

test('propagates a downstream error', async () => {
  const error = new Error('Exc');
  const app = baseHTTPMiddleware(tracked(async () => {
    throw error;
  }), passthrough);
  const c = client([chunk('')], disconnect);
  await expect(run(app, c)).rejects.toBe(error);
  expect(c.sent).toEqual([]);
});

test('propagates an error thrown mid-stream', async () => {
  const error = new Error('Faulty Stream');
  async function* faulty() {
    yield 'Ok';
    throw error;
  }
  const app = baseHTTPMiddleware(tracked(new StreamingResponse(faulty())), passthrough);
  const c = client([chunk('')], 'never');
  await expect(run(app, c)).rejects.toBe(error);
  // The client got what was sent before the error, and no final body: the response was never
  // passed off as complete, so a server aborts the connection rather than truncating silently.
  expect(bodyText(c)).toBe('Ok');
  expect(bodies(c).every((m) => m.more_body === true)).toBe(true);
});

test('no response returned', async () => {
  let failure: unknown;
  const app = baseHTTPMiddleware(tracked(async () => {}), async (request, callNext) => {
    try {
      return await callNext(request);
    } catch (error) {
      failure = error;
      throw error;
    }
  });
  await expect(run(app, client([chunk('')], disconnect))).rejects.toThrow(/No response returned/);
  expect((failure as Error).message).toMatch(/^No response returned/);
});

test('non-HTTP scopes pass through', async () => {
  const seen: unknown[] = [];
  const dispatch = jest.fn(passthrough);
  const app = baseHTTPMiddleware(tracked(async (s, r, send) => {
    seen.push(s, r, send);
  }), dispatch);
  const lifespan = { type: 'lifespan', asgi: { version: '3.0' } } as Scope;
  const c = client();
  await run(app, c, lifespan);
  expect(seen).toEqual([lifespan, c.receive, c.send]);
  expect(seen[0]).toBe(lifespan);
  expect(dispatch).not.toHaveBeenCalled();
});

test('request state is shared across stacked middlewares', async () => {
  const endpoint = tracked(new PlainTextResponse('Homepage'));
  const inner = baseHTTPMiddleware(endpoint, async (request, callNext) => {
    const response = await callNext(request);
    response.headers.set('x-state-foo', String(request.state.foo));
    response.headers.set('x-state-bar', String(request.state.bar));
    return response;
  });
  const middle = baseHTTPMiddleware(inner, async (request, callNext) => {
    request.state.bar = 'bar';
    return callNext(request);
  });
  const outer = baseHTTPMiddleware(middle, async (request, callNext) => {
    request.state.foo = 'foo';
    return callNext(request);
  });
  const c = client([chunk('')], disconnect);
  await run(outer, c);
  expect(header(starts(c)[0], 'x-state-foo')).toBe('foo');
  expect(header(starts(c)[0], 'x-state-bar')).toBe('bar');
  expect(bodyText(c)).toBe('Homepage');
});

test('dispatch may replace the response', async () => {
  const app = baseHTTPMiddleware(tracked(new PlainTextResponse('Homepage')), async (request, callNext) => {
    await callNext(request);
    return new PlainTextResponse('Custom');
  });
  const c = client([chunk('')], disconnect);
  await run(app, c);
  expect(starts(c)).toHaveLength(1);
  expect(bodyText(c)).toBe('Custom');
});

test('async context flows forward but not back', async () => {
  const context = new AsyncLocalStorage<string>();
  let seenDownstream: string | undefined;
  let seenAfter: string | undefined;
  const app = baseHTTPMiddleware(tracked(async (s, r, send) => {
    seenDownstream = context.getStore();
    context.enterWith('set by the downstream app');
    await new PlainTextResponse('ok')(s, r, send);
  }), async (request, callNext) => {
    context.enterWith('set by dispatch');
    const response = await callNext(request);
    seenAfter = context.getStore();
    return response;
  });
  await context.run('outer', () => run(app, client([chunk('')], disconnect)));
  expect(seenDownstream).toBe('set by dispatch');
  expect(seenAfter).toBe('set by dispatch');
});

test('background task runs even if the client disconnects', async () => {
  // Issue #1438: the client's receive must never be called, and the task runs to completion.
  let ran = false;
  const endpoint = tracked(new PlainTextResponse('response', {
    background: async () => {
      await sleep(100);
      ran = true;
    },
  }));
  const app = baseHTTPMiddleware(endpoint, passthrough);
  const c = client([], 'forbidden');
  await run(app, c);
  expect(ran).toBe(true);
  expect(c.receiveCalls).toBe(0);
});

test('background task errors surface', async () => {
  // Issue #2625.
  const error = new Error('TEST');
  const endpoint = tracked(new PlainTextResponse('ok', {
    background: () => {
      throw error;
    },
  }));
  const c = client([chunk('')], disconnect);
  await expect(run(baseHTTPMiddleware(endpoint, passthrough), c)).rejects.toBe(error);
  expect(bodyText(c)).toBe('ok');
});

test('dispatch can catch a downstream error', async () => {
  const app = baseHTTPMiddleware(tracked(async () => {
    throw new Error('Oops');
  }), async (request, callNext) => {
    try {
      return await callNext(request);
    } catch (error) {
      return new PlainTextResponse((error as Error).message, { status: 400 });
    }
  });
  const c = client([chunk('')], disconnect);
  await run(app, c);
  expect(starts(c)[0]?.status).toBe(400);
  expect(bodyText(c)).toBe('Oops');
});

test('background tasks do not delay the response', async () => {
  // Issue #919: two requests at once, each with a 100 ms background task.
  const events: string[] = [];
  const endpoint: ASGIApp = (s, r, send) => new PlainTextResponse('Hello', {
    background: async () => {
      events.push('task started');
      await sleep(100);
      events.push('task finished');
    },
  })(s, r, send);
  const app = baseHTTPMiddleware(tracked(endpoint), passthrough);
  const recordingClient = (): Client => {
    const c = client([], disconnect);
    c.send = (message) => {
      if (message.type === 'http.response.body') events.push(`body (more_body: ${message.more_body === true})`);
      return Promise.resolve();
    };
    return c;
  };
  await within(3000, Promise.all([run(app, recordingClient()), run(app, recordingClient())]));
  // tsgi passes the downstream's own body message through (Starlette re-chunks it into a
  // more_body chunk and an empty final one): each response is complete at its one final body.
  expect(events).toEqual([
    'body (more_body: false)',
    'body (more_body: false)',
    'task started',
    'task started',
    'task finished',
    'task finished',
  ]);
});

test('cleanup in an inner middleware runs even if the client disconnects', async () => {
  // Issue #1678.
  const events: string[] = [];
  const withCleanup = (app: ASGIApp): ASGIApp => async (s, r, send) => {
    try {
      await app(s, r, send);
    } finally {
      await sleep(100);
      events.push('cleanup ran');
    }
  };
  const endpoint: ASGIApp = async (s, receive, send) => {
    await receive(); // the client has already gone
    await new PlainTextResponse('bye')(s, receive, send);
  };
  const app = baseHTTPMiddleware(tracked(withCleanup(endpoint)), passthrough);
  await run(app, client([], disconnect));
  expect(events).toEqual(['cleanup ran']);
});

test('downstream receives http.disconnect while sending, if discarded', async () => {
  let downstreamStopped = false;
  let chunksSent = 0;
  const endpoint: ASGIApp = async (_s, receive, send) => {
    let disconnected = false;
    const watch = (async () => {
      while ((await receive()).type !== 'http.disconnect');
      disconnected = true;
    })();
    await send({ type: 'http.response.start', status: 200, headers: [] });
    // Bounded, so that a regression fails the test rather than spinning forever.
    while (!disconnected && chunksSent < 2000) {
      await send({ type: 'http.response.body', body: b('chunk'), more_body: true });
      chunksSent += 1;
      await sleep(1);
    }
    await watch;
    downstreamStopped = disconnected;
  };
  const app = baseHTTPMiddleware(tracked(endpoint), async (request, callNext) => {
    const response = await callNext(request);
    const iterator = ((response as StreamingResponse).bodyIterator as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(text(first.value as Uint8Array)).toBe('chunk');
    await iterator.return?.(undefined);
    return new PlainTextResponse('Custom');
  });
  const c = client([chunk('')], 'never');
  await run(app, c);
  expect(downstreamStopped).toBe(true);
  expect(chunksSent).toBeLessThan(2000);
  expect(bodyText(c)).toBe('Custom');
});

test('downstream receives http.disconnect after sending, if discarded', async () => {
  let received: ASGIReceiveEvent | undefined;
  const endpoint: ASGIApp = async (_s, receive, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: b('first'), more_body: true });
    await send({ type: 'http.response.body', body: b('second'), more_body: true });
    received = await receive();
  };
  const app = baseHTTPMiddleware(tracked(endpoint), async (request, callNext) => {
    await callNext(request);
    return new PlainTextResponse('Custom');
  });
  const c = client([chunk('')], 'never');
  await run(app, c);
  expect(received).toEqual({ type: 'http.disconnect' });
  expect(bodyText(c)).toBe('Custom');
});

describe('request body read in dispatch, then by the app', () => {
  const cases: ['stream' | 'body', 'stream' | 'body', string][] = [
    ['stream', 'stream', ''],
    ['stream', 'body', ''],
    ['body', 'stream', 'a'],
    ['body', 'body', 'a'],
  ];
  test.each(cases)('request body read in dispatch, then by the app: dispatch %s(), app %s()', async (first, second, expected) => {
    let appSaw: string | undefined;
    const endpoint: ASGIApp = async (s, receive, send) => {
      const request = new Request(s as never, receive);
      if (second === 'body') {
        appSaw = text(await request.body());
      } else {
        const parts: string[] = [];
        for await (const part of request.stream()) parts.push(text(part));
        appSaw = parts.join('');
      }
      await new PlainTextResponse('ok')(s, receive, send);
    };
    const app = baseHTTPMiddleware(tracked(endpoint), async (request, callNext) => {
      if (first === 'body') {
        expect(text(await request.body())).toBe('a');
      } else {
        const parts: string[] = [];
        for await (const part of request.stream()) parts.push(text(part));
        expect(parts.join('')).toBe('a');
      }
      return callNext(request);
    });
    await run(app, client([chunk('a', true), chunk('')], 'never'));
    expect(appSaw).toBe(expected);
  });
});

test('app reads the body, then dispatch tries to stream it', async () => {
  const endpoint: ASGIApp = async (s, receive, send) => {
    expect(text(await new Request(s as never, receive).body())).toBe('a');
    await new PlainTextResponse('ok')(s, receive, send);
  };
  let streamError: unknown;
  const streamsAfter = baseHTTPMiddleware(tracked(endpoint), async (request, callNext) => {
    const response = await callNext(request);
    try {
      for await (const part of request.stream()) void part;
    } catch (error) {
      streamError = error;
    }
    return response;
  });
  await run(streamsAfter, client([chunk('a', true), chunk('')], 'never'));
  expect((streamError as Error).message).toMatch(/stream was already consumed/);

  // Read with body() before callNext, and both body() and stream() work again after it.
  let again: string[] = [];
  const readsFirst = baseHTTPMiddleware(tracked(endpoint), async (request, callNext) => {
    await request.body();
    const response = await callNext(request);
    again = [text(await request.body())];
    for await (const part of request.stream()) again.push(text(part));
    return response;
  });
  await run(readsFirst, client([chunk('a', true), chunk('')], 'never'));
  expect(again).toEqual(['a', 'a']);
});

test('dispatch streams, calls `callNext` mid-stream, and the app reads on', async () => {
  let appRead: string | undefined;
  let dispatchReadAfter: string | undefined;
  const endpoint: ASGIApp = async (s, receive, send) => {
    const message = await receive();
    appRead = message.type === 'http.request' ? text(message.body) : message.type;
    await new PlainTextResponse('')(s, receive, send);
  };
  const app = baseHTTPMiddleware(tracked(endpoint), async (request, callNext) => {
    const stream = request.stream();
    expect(text((await stream.next()).value as Uint8Array)).toBe('1');
    const response = await callNext(request);
    dispatchReadAfter = text((await stream.next()).value as Uint8Array);
    return response;
  });
  const c = client([chunk('1', true), chunk('2', true), chunk('3')], 'forbidden');
  await run(app, c);
  expect(appRead).toBe('2');
  expect(dispatchReadAfter).toBe('3');
  expect(c.receiveCalls).toBe(3);
  expect(header(starts(c)[0], 'content-length')).toBe('0');
  expect(bodies(c)).toEqual([{ type: 'http.response.body', body: b('') }]);
});

test('disconnect seen by the app marks the request disconnected', async () => {
  let disconnected: boolean | undefined;
  const endpoint: ASGIApp = async (s, receive, send) => {
    expect(await receive()).toEqual({ type: 'http.disconnect' });
    await new PlainTextResponse('')(s, receive, send);
  };
  const app = baseHTTPMiddleware(tracked(endpoint), async (request, callNext) => {
    const response = await callNext(request);
    disconnected = await request.isDisconnected();
    return response;
  });
  const c = client([disconnect], 'forbidden');
  await run(app, c);
  expect(disconnected).toBe(true);
  expect(c.receiveCalls).toBe(1);
});

test('disconnect after the body was consumed', async () => {
  const appReceived: ASGIReceiveEvent[] = [];
  const endpoint: ASGIApp = async (s, receive, send) => {
    appReceived.push(await receive(), await receive());
    await new PlainTextResponse('')(s, receive, send);
  };
  const app = baseHTTPMiddleware(tracked(endpoint), async (request, callNext) => {
    expect(text(await request.body())).toBe('hi');
    expect(await request.isDisconnected()).toBe(true);
    return callNext(request);
  });
  const c = client([chunk('hi'), disconnect], 'forbidden');
  await run(app, c);
  expect(appReceived).toEqual([{ type: 'http.request', body: b('hi'), more_body: false }, { type: 'http.disconnect' }]);
  expect(c.receiveCalls).toBe(2);
});

test('a downstream middleware that changes receive', async () => {
  let appRead: string | undefined;
  const doubling = (app: ASGIApp): ASGIApp => (s, receive, send) => app(s, async () => {
    const message = await receive();
    if (message.type !== 'http.request') return message;
    const once = text(message.body);
    return { ...message, body: b(once + once) };
  }, send);
  const endpoint: ASGIApp = async (s, receive, send) => {
    appRead = text(await new Request(s as never, receive).body());
    await new PlainTextResponse('ok')(s, receive, send);
  };
  let dispatchRead: string | undefined;
  const app = baseHTTPMiddleware(tracked(doubling(endpoint)), async (request, callNext) => {
    dispatchRead = text(await request.body());
    return callNext(request);
  });
  await run(app, client([chunk('foo ')], 'never'));
  expect(dispatchRead).toBe('foo ');
  expect(appRead).toBe('foo foo ');
});

test('a body-rewriting middleware under a body-reading one', async () => {
  // The example from PR #1519.
  const logged: number[] = [];
  let endpointSaw: string | undefined;
  const appendFoo = (app: ASGIApp): ASGIApp => (s, receive, send) => app(s, async () => {
    const message = await receive();
    if (message.type !== 'http.request' || message.more_body === true) return message;
    return { ...message, body: b(text(message.body) + '-foo') };
  }, send);
  const endpoint: ASGIApp = async (s, receive, send) => {
    endpointSaw = text(await new Request(s as never, receive).body());
    await new PlainTextResponse('ok')(s, receive, send);
  };
  const app = baseHTTPMiddleware(tracked(appendFoo(endpoint)), async (request, callNext) => {
    logged.push((await request.body()).length);
    return callNext(request);
  });
  await run(app, client([chunk('Hello, World!')], 'never'));
  expect(logged).toEqual([13]);
  expect(endpointSaw).toBe('Hello, World!-foo');
});

test('ten stacked middlewares, client already gone', async () => {
  // Issue #2516.
  const events: string[] = [];
  const endpoint: ASGIApp = async (s, receive, send) => {
    try {
      await new Request(s as never, receive).body();
    } catch {
      // the client is gone: ClientDisconnect
    }
    await new PlainTextResponse('')(s, receive, send);
  };
  let app: ASGIApp = tracked(endpoint);
  for (let i = 10; i >= 1; i--) {
    app = tracked(baseHTTPMiddleware(app, async (request, callNext) => {
      events.push(`${i} STARTED`);
      const response = await callNext(request);
      events.push(`${i} COMPLETED`);
      response.background = () => {
        events.push(`${i} background`);
      };
      return response;
    }));
  }
  const c = client([], disconnect);
  await run(app, c);
  const index = (e: string) => events.indexOf(e);
  expect(events.filter((e) => e.endsWith('STARTED'))).toEqual(Array.from({ length: 10 }, (_, i) => `${i + 1} STARTED`));
  expect(events.filter((e) => e.endsWith('COMPLETED'))).toEqual(Array.from({ length: 10 }, (_, i) => `${10 - i} COMPLETED`));
  expect(events.filter((e) => e.endsWith('background')).sort()).toHaveLength(10);
  expect(index('1 COMPLETED')).toBeGreaterThan(index('10 STARTED'));
  expect(c.sent).toHaveLength(2);
  expect(header(starts(c)[0], 'content-length')).toBe('0');
  expect(bodies(c)).toHaveLength(1);
  expect(bodies(c)[0]?.more_body).not.toBe(true);
  expect(bodyText(c)).toBe('');
});

describe('polling for disconnect repeatedly', () => {
  test.each([
    ['a disconnect only', [disconnect]],
    ['a two-part body, then a disconnect', [chunk('a', true), chunk('b'), disconnect]],
  ] as [string, ASGIReceiveEvent[]][])('polling for disconnect repeatedly: %s', async (_name, messages) => {
    const endpoint: ASGIApp = async (s, receive, send) => {
      for (let round = 0; round < 2; round++) while ((await receive()).type !== 'http.disconnect');
      await new PlainTextResponse('good!')(s, receive, send);
    };
    const c = client(messages, 'forbidden');
    await run(baseHTTPMiddleware(tracked(endpoint), passthrough), c);
    expect(c.receiveCalls).toBe(messages.length);
    expect(header(starts(c)[0], 'content-length')).toBe('5');
    expect(bodyText(c)).toBe('good!');
    expect(bodies(c).at(-1)?.more_body).not.toBe(true);
  });
});

test('pathsend passes through', async () => {
  const start: HTTPResponseStartEvent = { type: 'http.response.start', status: 200, headers: [[b('content-type'), b('text/html')]] };
  const pathsend = { type: 'http.response.pathsend', path: '/srv/index.html' } as const;
  const endpoint: ASGIApp = async (_s, _r, send) => {
    await send(start);
    await send(pathsend);
  };
  const c = client([chunk('')], 'never');
  await run(baseHTTPMiddleware(tracked(endpoint), passthrough), c, scope({ 'http.response.pathsend': {} }));
  expect(c.sent).toEqual([start, pathsend]);
  expect(c.sent[1]).toBe(pathsend);
});

test('debug info passes through', async () => {
  const debug = { type: 'http.response.debug', info: { template: 'index.html', context: { n: 1 } } } as const;
  const endpoint: ASGIApp = async (s, r, send) => {
    await send(debug);
    await new PlainTextResponse('page')(s, r, send);
  };
  const c = client([chunk('')], 'never');
  await run(baseHTTPMiddleware(tracked(endpoint), passthrough), c, scope({ 'http.response.debug': {} }));
  expect(c.sent.map((m) => m.type)).toEqual(['http.response.debug', 'http.response.start', 'http.response.body']);
  expect(c.sent[0]).toBe(debug);
});

describe('no dangling work', () => {
  // Checked after every test above as well; here, the paths where the response never completes.
  const stuck: ASGIApp = async (_s, receive, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: b('1'), more_body: true });
    await send({ type: 'http.response.body', body: b('2'), more_body: true });
    // Only returns once it is told the client is gone.
    while ((await receive()).type !== 'http.disconnect');
  };

  test('no dangling work: dispatch throws after callNext', async () => {
    const app = baseHTTPMiddleware(tracked(stuck), async (request, callNext) => {
      await callNext(request);
      throw new Error('dispatch failed');
    });
    await expect(run(app, client([chunk('')], 'never'))).rejects.toThrow('dispatch failed');
  });

  test('no dangling work: sending to the client fails', async () => {
    const c = client([chunk('')], 'never');
    c.send = (message) => (message.type === 'http.response.body' ? Promise.reject(new Error('client gone')) : Promise.resolve());
    await expect(run(baseHTTPMiddleware(tracked(stuck), passthrough), c)).rejects.toThrow('client gone');
  });

  test('no dangling work: the response is never read', async () => {
    const app = baseHTTPMiddleware(tracked(stuck), async (request, callNext) => {
      void (await callNext(request));
      return new PlainTextResponse('other');
    });
    await run(app, client([chunk('')], 'never'));
  });
});

test('backpressure', async () => {
  // While dispatch does not pull the body, the downstream's send of a chunk stays pending.
  const progress: string[] = [];
  const endpoint: ASGIApp = async (_s, _r, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    for (const part of ['a', 'b', 'c']) {
      progress.push(`sending ${part}`);
      await send({ type: 'http.response.body', body: b(part), more_body: part !== 'c' });
      progress.push(`sent ${part}`);
    }
  };
  const pulled: string[] = [];
  const app = baseHTTPMiddleware(tracked(endpoint), async (request, callNext) => {
    const response = (await callNext(request)) as StreamingResponse;
    await sleep(50);
    expect(progress).toEqual(['sending a']); // one chunk in flight, not taken
    const iterator = (response.bodyIterator as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    pulled.push(text((await iterator.next()).value as Uint8Array));
    await sleep(20);
    expect(progress).toEqual(['sending a']); // taken, but not yet released: it is being handled
    pulled.push(text((await iterator.next()).value as Uint8Array));
    await sleep(20);
    expect(progress).toEqual(['sending a', 'sent a', 'sending b']);
    pulled.push(text((await iterator.next()).value as Uint8Array));
    return new PlainTextResponse('done');
  });
  await run(app, client([chunk('')], 'never'));
  expect(pulled).toEqual(['a', 'b', 'c']);
  expect(progress).toEqual(['sending a', 'sent a', 'sending b', 'sent b', 'sending c', 'sent c']);
});

test('trailers pass through', async () => {
  const messages: ASGISendEvent[] = [
    { type: 'http.response.start', status: 200, headers: [[b('trailer'), b('x-checksum')]], trailers: true },
    { type: 'http.response.body', body: b('part 1'), more_body: true },
    { type: 'http.response.body', body: b('part 2'), more_body: false },
    { type: 'http.response.trailers', headers: [[b('x-checksum'), b('abc')]], more_trailers: true },
    { type: 'http.response.trailers', headers: [[b('x-more'), b('1')]], more_trailers: false },
  ];
  const endpoint: ASGIApp = async (_s, _r, send) => {
    for (const m of messages) await send(m);
  };
  const c = client([chunk('')], 'never');
  await run(baseHTTPMiddleware(tracked(endpoint), passthrough), c, scope({ 'http.response.trailers': {} }));
  expect(c.sent).toEqual(messages);
  c.sent.forEach((m, i) => expect(m).toBe(messages[i]));
});

test('dispatch changing the status sends a new start with the same headers list semantics', async () => {
  const shared: [Uint8Array, Uint8Array][] = [[b('x-shared'), b('1')]];
  const endpoint: ASGIApp = async (_s, _r, send) => {
    await send({ type: 'http.response.start', status: 200, headers: shared });
    await send({ type: 'http.response.body', body: b('x') });
  };
  const app = baseHTTPMiddleware(tracked(endpoint), async (request, callNext) => {
    const response = await callNext(request);
    response.status = 201;
    response.headers.append('x-added', '2');
    return response;
  });
  const c = client([chunk('')], 'never');
  await run(app, c);
  expect(starts(c)[0]?.status).toBe(201);
  expect(starts(c)[0]?.headers?.map(([n]) => text(n))).toEqual(['x-shared', 'x-added']);
  // The downstream's own header list was not touched.
  expect(shared).toHaveLength(1);
});

test('a dispatch that returns no Response gets a clear error, and the downstream still finishes', async () => {
  const app = baseHTTPMiddleware(tracked(new PlainTextResponse('unused')), (async (request: Request, callNext: (r: Request) => Promise<unknown>) => {
    await callNext(request); // forgot to return it
  }) as unknown as Dispatch);
  await expect(run(app, client([chunk('')], 'never'))).rejects.toThrow(/dispatch must return a Response \(got undefined\)/);
});

test('a dispatch that does not await callNext: the downstream still finishes, and nothing goes unhandled', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const slow: ASGIApp = async (s, r, send) => {
      await sleep(20); // starts its response only after the middleware has answered
      await new PlainTextResponse('too late')(s, r, send);
    };
    const app = baseHTTPMiddleware(tracked(slow), async (request, callNext) => {
      void callNext(request);
      return new PlainTextResponse('answered without waiting');
    });
    const c = client([chunk('')], 'never');
    await run(app, c);
    expect(bodyText(c)).toBe('answered without waiting');
    await sleep(20);
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
