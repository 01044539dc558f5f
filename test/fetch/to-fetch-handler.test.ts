/** toFetchHandler in process: the scope built from a Request, the Response built from the app's messages. */
import {
  ClientDisconnect,
  JSONResponse,
  PlainTextResponse,
  toFetchHandler,
  type ASGIApp,
  type ASGIReceiveEvent,
  type FetchLogger,
  type HTTPScope,
  type Scope,
} from '../../src/index.js';
import { sleep, within } from '../support/asgi.js';

const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('latin1');
const bytes = (s: string) => new TextEncoder().encode(s);

function quietLogger() {
  const lines: string[] = [];
  const logger: FetchLogger = {
    error: (m, e) => lines.push(`error: ${m}${e === undefined ? '' : ` ${String(e)}`}`),
    warn: (m) => lines.push(`warn: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
  };
  return { logger, lines };
}

/** An app that records its scope and answers 200 "ok". */
function recorder() {
  const seen: { scope?: HTTPScope } = {};
  const app: ASGIApp = async (scope, receive, send) => {
    if (scope.type !== 'http') return;
    seen.scope = scope;
    await new PlainTextResponse('ok')(scope, receive, send);
  };
  return { app, seen };
}

describe('the scope, field by field', () => {
  test('from a POST with a query, an encoded path, repeated headers and a Deno info', async () => {
    const { app, seen } = recorder();
    const handler = toFetchHandler(app, { rootPath: '/api', lifespan: 'off' });
    const request = new Request('http://example.com:8080/caf%C3%A9/a%2Fb?x=1&y=%C3%A9&z', {
      method: 'POST',
      headers: [['X-B', '1'], ['x-a', '2'], ['x-b', '3'], ['host', 'example.com:8080']],
      body: 'hi',
    });
    const response = await handler.fetch(request, { remoteAddr: { transport: 'tcp', hostname: '10.1.2.3', port: 5555 } });
    expect(response.status).toBe(200);
    const scope = seen.scope!;
    expect(scope.type).toBe('http');
    expect(scope.asgi).toEqual({ version: '3.0', spec_version: '2.5' });
    expect(scope.http_version).toBe('1.1');
    expect(scope.method).toBe('POST');
    expect(scope.scheme).toBe('http');
    expect(scope.path).toBe('/api/café/a/b');
    expect(text(scope.raw_path!)).toBe('/caf%C3%A9/a%2Fb');
    expect(text(scope.query_string)).toBe('x=1&y=%C3%A9&z');
    expect(scope.root_path).toBe('/api');
    // What a fetch Headers keeps: lower-case names, its order, repeated values joined.
    expect(scope.headers.map(([n, v]) => [text(n), text(v)])).toEqual([
      ['content-type', 'text/plain;charset=UTF-8'],
      ['host', 'example.com:8080'],
      ['x-a', '2'],
      ['x-b', '1, 3'],
    ]);
    expect(scope.client).toEqual(['10.1.2.3', 5555]);
    expect(scope.server).toEqual(['example.com', 8080]);
    expect(scope.extensions).toEqual({});
    expect(scope.state).toBeUndefined();
  });

  test('https, default port, IPv6 literal, a host added from the URL, no query', async () => {
    const { app, seen } = recorder();
    const handler = toFetchHandler(app, { lifespan: 'off' });
    await handler.fetch(new Request('https://[::1]/'));
    const scope = seen.scope!;
    expect(scope.scheme).toBe('https');
    expect(scope.server).toEqual(['::1', 443]);
    expect(scope.path).toBe('/');
    expect(scope.root_path).toBe('');
    expect(text(scope.query_string)).toBe('');
    expect(scope.headers.map(([n, v]) => [text(n), text(v)])).toEqual([['host', '[::1]']]);
    expect(scope.client).toBeNull();
    await handler.fetch(new Request('http://h/p?#frag'));
    expect(text(seen.scope!.query_string)).toBe('');
    expect(seen.scope!.server).toEqual(['h', 80]);
  });

  test('a malformed escape stays as it is; set-cookie stays one entry per value', async () => {
    const { app, seen } = recorder();
    const handler = toFetchHandler(app, { lifespan: 'off' });
    const headers = new Headers();
    headers.append('set-cookie', 'a=1');
    headers.append('set-cookie', 'b=2');
    await handler.fetch(new Request('http://h/%E0%A4%A/x%20y', { headers }));
    expect(seen.scope!.path).toBe('/%E0%A4%A/x y');
    expect(seen.scope!.headers.filter(([n]) => text(n) === 'set-cookie').map(([, v]) => text(v))).toEqual(['a=1', 'b=2']);
  });

  test('client from Bun\'s server, @hono/node-server\'s env, srvx\'s request, or the option', async () => {
    const { app, seen } = recorder();
    const handler = toFetchHandler(app, { lifespan: 'off' });
    const request = new Request('http://h/');
    const bunServer = { requestIP: (r: Request) => (r === request ? { address: '1.2.3.4', port: 4000, family: 'IPv4' } : null) };
    await handler.fetch(request, bunServer);
    expect(seen.scope!.client).toEqual(['1.2.3.4', 4000]);
    await handler.fetch(new Request('http://h/'), { incoming: { socket: { remoteAddress: '5.6.7.8', remotePort: 99 } } });
    expect(seen.scope!.client).toEqual(['5.6.7.8', 99]);
    const srvx = Object.assign(new Request('http://h/'), { runtime: { node: { req: { socket: { remoteAddress: '::1', remotePort: 7 } } } } });
    await handler.fetch(srvx);
    expect(seen.scope!.client).toEqual(['::1', 7]);
    await handler.fetch(Object.assign(new Request('http://h/'), { ip: '9.9.9.9' }));
    expect(seen.scope!.client).toEqual(['9.9.9.9', 0]);

    const own = toFetchHandler(app, { lifespan: 'off', client: (r) => [r.headers.get('cf-connecting-ip') ?? '?', 0] });
    await own.fetch(new Request('http://h/', { headers: { 'cf-connecting-ip': '203.0.113.9' } }), { SOME_BINDING: 1 });
    expect(seen.scope!.client).toEqual(['203.0.113.9', 0]);
  });
});

describe('the response', () => {
  test('a body sent whole is a plain Response with the app\'s status and headers, duplicates kept', async () => {
    const app: ASGIApp = async (_scope, _receive, send) => {
      await send({
        type: 'http.response.start',
        status: 201,
        headers: [[bytes('content-type'), bytes('text/plain')], [bytes('set-cookie'), bytes('a=1')], [bytes('set-cookie'), bytes('b=2')], [bytes('x-latin'), Uint8Array.of(0xe9)]],
      });
      await send({ type: 'http.response.body', body: bytes('created') });
    };
    const response = await toFetchHandler(app, { lifespan: 'off' }).fetch(new Request('http://h/'));
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(response.headers.get('x-latin')).toBe('é');
    expect(await response.text()).toBe('created');
  });

  test('JSON through the validation that is on by default', async () => {
    const handler = toFetchHandler(new JSONResponse({ ok: true }));
    const response = await handler.fetch(new Request('http://h/'));
    expect(await response.json()).toEqual({ ok: true });
  });

  test.each([204, 205, 304])('%i with a body (validation off) has no body and is not thrown', async (status) => {
    const app: ASGIApp = async (_s, _r, send) => {
      await send({ type: 'http.response.start', status, headers: [[bytes('x-s'), bytes('1')]] });
      await send({ type: 'http.response.body', body: bytes('not allowed') });
    };
    const response = await toFetchHandler(app, { lifespan: 'off', validate: false }).fetch(new Request('http://h/'));
    expect(response.status).toBe(status);
    expect(response.body).toBeNull();
    expect(response.headers.get('x-s')).toBe('1');
  });

  test('HEAD keeps the app\'s content-length and carries no body, streamed or whole', async () => {
    for (const more of [false, true]) {
      const app: ASGIApp = async (_s, _r, send) => {
        await send({ type: 'http.response.start', status: 200, headers: [[bytes('content-length'), bytes('5')]] });
        await send({ type: 'http.response.body', body: bytes('hello'), more_body: more });
        if (more) await send({ type: 'http.response.body', body: new Uint8Array(0) });
      };
      const response = await toFetchHandler(app, { lifespan: 'off', validate: false }).fetch(new Request('http://h/', { method: 'HEAD' }));
      expect(response.body).toBeNull();
      expect(response.headers.get('content-length')).toBe('5');
    }
  });

  test.each([99, 103, 600, 1000])('status %i (validation off) becomes a logged 500, never a throw', async (status) => {
    const log = quietLogger();
    let sendError: unknown;
    const app: ASGIApp = async (_s, _r, send) => {
      await send({ type: 'http.response.start', status, headers: [] });
      try {
        await send({ type: 'http.response.body', body: bytes('x') });
      } catch (error) {
        sendError = error;
      }
    };
    const response = await toFetchHandler(app, { lifespan: 'off', validate: false, logger: log.logger }).fetch(new Request('http://h/'));
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('Internal Server Error');
    expect(String(sendError)).toMatch(new RegExp(`status ${status} cannot be sent`));
    expect(log.lines.join('\n')).toMatch(new RegExp(`status ${status} cannot be sent.*"GET http://h/"`));
  });

  test('an app that throws synchronously (validation off) becomes a logged 500, never a throw from fetch', async () => {
    const log = quietLogger();
    const app = ((): Promise<void> => {
      throw new Error('thrown before any promise');
    }) as ASGIApp;
    const response = await toFetchHandler(app, { lifespan: 'off', validate: false, logger: log.logger }).fetch(new Request('http://h/'));
    expect(response.status).toBe(500);
    expect(log.lines.join('\n')).toMatch(/Exception in ASGI application, "GET http:\/\/h\/" Error: thrown before any promise/);
  });

  test('a header value with CR LF (validation off) becomes a logged 500', async () => {
    const log = quietLogger();
    const app: ASGIApp = async (_s, _r, send) => {
      await send({ type: 'http.response.start', status: 200, headers: [[bytes('x-split'), bytes('a\r\nx-injected: 1')]] });
      await send({ type: 'http.response.body', body: bytes('x'), more_body: true });
    };
    const response = await toFetchHandler(app, { lifespan: 'off', validate: false, logger: log.logger }).fetch(new Request('http://h/'));
    expect(response.status).toBe(500);
    expect(response.headers.get('x-injected')).toBeNull();
    expect(log.lines.join('\n')).toMatch(/cannot be sent through the fetch API/);
  });

  test('validation on by default: a malformed start is a 500 with the ProtocolError logged', async () => {
    const log = quietLogger();
    const app = (async (_s, _r, send) => {
      await send({ type: 'http.response.start', status: '200' } as never);
    }) as ASGIApp;
    const response = await toFetchHandler(app, { lifespan: 'off', logger: log.logger }).fetch(new Request('http://h/'));
    expect(response.status).toBe(500);
    expect(log.lines.join('\n')).toMatch(/status must be an integer/);
  });

  test('an app that throws before its start, or returns without one, answers 500', async () => {
    const log = quietLogger();
    const throws = toFetchHandler(async () => { throw new Error('boom'); }, { lifespan: 'off', logger: log.logger });
    expect((await throws.fetch(new Request('http://h/x'))).status).toBe(500);
    const silent = toFetchHandler(async () => {}, { lifespan: 'off', validate: false, logger: log.logger });
    expect((await silent.fetch(new Request('http://h/y'))).status).toBe(500);
    expect(log.lines[0]).toMatch(/Exception in ASGI application, "GET http:\/\/h\/x" Error: boom/);
    expect(log.lines[1]).toMatch(/returned without starting a response, "GET http:\/\/h\/y"/);
  });

  test('an app that fails after streaming began errors the body: never passed off as complete', async () => {
    const log = quietLogger();
    const app: ASGIApp = async (_s, _r, send) => {
      await send({ type: 'http.response.start', status: 200, headers: [] });
      await send({ type: 'http.response.body', body: bytes('part'), more_body: true });
      throw new Error('midway');
    };
    const response = await toFetchHandler(app, { lifespan: 'off', logger: log.logger }).fetch(new Request('http://h/'));
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow('midway');
  });
});

describe('streaming', () => {
  test('the response streams with backpressure: send() waits while nobody reads', async () => {
    let sent = 0;
    let finished = false;
    const app: ASGIApp = async (_s, _r, send) => {
      await send({ type: 'http.response.start', status: 200, headers: [] });
      for (let i = 0; i < 100; i++) {
        await send({ type: 'http.response.body', body: new Uint8Array(1024).fill(i), more_body: true });
        sent += 1;
      }
      await send({ type: 'http.response.body', body: new Uint8Array(0) });
      finished = true;
    };
    const response = await toFetchHandler(app, { lifespan: 'off' }).fetch(new Request('http://h/'));
    await sleep(50);
    // One chunk queued (high water mark 1), one waiting in send(): the app is held.
    expect(sent).toBeLessThanOrEqual(2);
    const reader = response.body!.getReader();
    let total = 0;
    for (let step = await reader.read(); !step.done; step = await reader.read()) total += step.value.length;
    expect(total).toBe(100 * 1024);
    await within(5_000, (async () => { while (!finished) await sleep(5); })(), 'the app finishing');
  });

  test('the request body streams chunk by chunk, pulled only as the app asks', async () => {
    let pulls = 0;
    const upload = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls += 1;
        if (pulls > 50) controller.close();
        else controller.enqueue(new Uint8Array(1000).fill(pulls));
      },
    }, { highWaterMark: 0 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const chunks: number[] = [];
    const app: ASGIApp = async (scope, receive, send) => {
      let message = await receive();
      await gate;
      for (;;) {
        if (message.type !== 'http.request') throw new Error('unexpected disconnect');
        chunks.push(message.body?.length ?? 0);
        if (message.more_body !== true) break;
        message = await receive();
      }
      await new PlainTextResponse(`${chunks.reduce((a, b) => a + b, 0)}`)(scope, receive, send);
    };
    const pending = toFetchHandler(app, { lifespan: 'off' }).fetch(new Request('http://h/', { method: 'POST', body: upload, duplex: 'half' } as RequestInit));
    await sleep(50);
    // The app asked once; the stream was not drained ahead of it.
    expect(pulls).toBeLessThanOrEqual(3);
    release();
    const response = await within(5_000, pending, 'the upload');
    expect(await response.text()).toBe('50000');
    expect(chunks.filter((n) => n > 0)).toHaveLength(50);
  });
});

describe('disconnect', () => {
  test('the request\'s signal aborting is http.disconnect to an app waiting in receive()', async () => {
    const messages: ASGIReceiveEvent[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    const app: ASGIApp = async (_s, receive, send) => {
      messages.push(await receive()); // the (empty) body
      await send({ type: 'http.response.start', status: 200, headers: [] });
      await send({ type: 'http.response.body', body: bytes('event\n'), more_body: true });
      messages.push(await receive()); // waits for the client to leave
      done();
    };
    const abort = new AbortController();
    const response = await toFetchHandler(app, { lifespan: 'off' }).fetch(new Request('http://h/', { signal: abort.signal }));
    expect(response.status).toBe(200);
    await response.body!.getReader().read();
    abort.abort();
    await within(5_000, finished, 'the app hearing the disconnect');
    expect(messages.map((m) => m.type)).toEqual(['http.request', 'http.disconnect']);
  });

  test('the signal aborting wakes a send() held by backpressure with ClientDisconnect', async () => {
    let error: unknown;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    const app: ASGIApp = async (_s, _r, send) => {
      await send({ type: 'http.response.start', status: 200, headers: [] });
      try {
        for (;;) await send({ type: 'http.response.body', body: new Uint8Array(4096), more_body: true });
      } catch (e) {
        error = e;
      }
      done();
    };
    const abort = new AbortController();
    const response = await toFetchHandler(app, { lifespan: 'off', logger: quietLogger().logger }).fetch(new Request('http://h/', { signal: abort.signal }));
    expect(response.status).toBe(200);
    await sleep(20);
    abort.abort();
    await within(5_000, finished, 'the held send waking');
    expect(error).toBeInstanceOf(ClientDisconnect);
  });

  test('the runtime cancelling the body makes send() raise ClientDisconnect and receive() answer http.disconnect', async () => {
    let error: unknown;
    let after: ASGIReceiveEvent | undefined;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    const log = quietLogger();
    const app: ASGIApp = async (_s, receive, send) => {
      await receive();
      await send({ type: 'http.response.start', status: 200, headers: [] });
      try {
        for (;;) await send({ type: 'http.response.body', body: new Uint8Array(4096), more_body: true });
      } catch (e) {
        error = e;
      }
      after = await receive();
      done();
    };
    const response = await toFetchHandler(app, { lifespan: 'off', logger: log.logger }).fetch(new Request('http://h/'));
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    await within(5_000, finished, 'the app hearing the disconnect');
    expect(error).toBeInstanceOf(ClientDisconnect);
    expect(after).toEqual({ type: 'http.disconnect' });
    expect(log.lines).toEqual([]);
  });

  test('after the response is complete, receive() answers http.disconnect at once', async () => {
    let after: ASGIReceiveEvent | undefined;
    const app: ASGIApp = async (scope, receive, send) => {
      await new PlainTextResponse('done')(scope, receive, send);
      after = await within(2_000, receive(), 'receive after the response');
    };
    const handler = toFetchHandler(app, { lifespan: 'off' });
    expect(await (await handler.fetch(new Request('http://h/'))).text()).toBe('done');
    await within(3_000, (async () => { while (after === undefined) await sleep(5); })());
    expect(after).toEqual({ type: 'http.disconnect' });
  });
});

describe('lifespan', () => {
  function lifespanApp(events: string[], fail = false): ASGIApp {
    return async (scope: Scope, receive, send) => {
      if (scope.type === 'lifespan') {
        for (;;) {
          const message = await receive();
          events.push(message.type);
          if (message.type === 'lifespan.startup') {
            scope.state!['db'] = 'connected';
            await send(fail ? { type: 'lifespan.startup.failed', message: 'no db' } : { type: 'lifespan.startup.complete' });
          } else {
            await send({ type: 'lifespan.shutdown.complete' });
            return;
          }
        }
      }
      if (scope.type !== 'http') return;
      await new PlainTextResponse(String(scope.state?.['db']))(scope, receive, send);
    };
  }

  test('startup runs lazily, once, before the first request; state reaches requests', async () => {
    const events: string[] = [];
    const handler = toFetchHandler(lifespanApp(events));
    const [a, b] = await Promise.all([handler.fetch(new Request('http://h/')), handler.fetch(new Request('http://h/'))]);
    expect(await a.text()).toBe('connected');
    expect(await b.text()).toBe('connected');
    expect(events).toEqual(['lifespan.startup']);
    await handler.shutdown();
    expect(events).toEqual(['lifespan.startup', 'lifespan.shutdown']);
  });

  test('startup() called first; a failed startup rejects it, and requests answer 500', async () => {
    const events: string[] = [];
    const handler = toFetchHandler(lifespanApp(events));
    await handler.startup();
    expect(await (await handler.fetch(new Request('http://h/'))).text()).toBe('connected');
    await handler.shutdown();

    const log = quietLogger();
    const failing = toFetchHandler(lifespanApp([], true), { logger: log.logger });
    await expect(failing.startup()).rejects.toThrow('lifespan startup failed: no db');
    expect((await failing.fetch(new Request('http://h/'))).status).toBe(500);
    const lazy = toFetchHandler(lifespanApp([], true), { logger: log.logger });
    expect((await lazy.fetch(new Request('http://h/'))).status).toBe(500);
    expect((await lazy.fetch(new Request('http://h/'))).status).toBe(500);
    // Logged once per handler, however many requests it refused.
    expect(log.lines.filter((l) => l.includes('lifespan startup failed'))).toHaveLength(2);
  });

  test('an app that does not speak lifespan is served in auto mode', async () => {
    const handler = toFetchHandler(new PlainTextResponse('plain'));
    expect(await (await handler.fetch(new Request('http://h/'))).text()).toBe('plain');
    await handler.shutdown();
  });
});
