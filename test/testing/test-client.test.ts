import {
  baseHTTPMiddleware,
  JSONResponse,
  PlainTextResponse,
  ProtocolError,
  Request,
  StreamingResponse,
  type ASGIApp,
  type HTTPScope,
} from '../../src/index.js';
import { TestClient } from '../../src/testing/index.js';
import { sleep, within } from '../support/asgi.js';

const routes: ASGIApp = async (scope, receive, send) => {
  if (scope.type !== 'http') return;
  const request = new Request(scope, receive);
  switch (scope.path) {
    case '/':
      return new PlainTextResponse('Hello, world!')(scope, receive, send);
    case '/json':
      return new JSONResponse({ query: Object.fromEntries(request.query), method: request.method })(scope, receive, send);
    case '/echo':
      return new JSONResponse({
        body: await request.text(),
        length: request.headers.get('content-length'),
        type: request.headers.get('content-type'),
      })(scope, receive, send);
    case '/cookies': {
      const response = new PlainTextResponse('');
      response.headers.append('set-cookie', 'a=1');
      response.headers.append('set-cookie', 'b=2');
      return response(scope, receive, send);
    }
    case '/empty':
      return new PlainTextResponse(null, { status: 204 })(scope, receive, send);
    default:
      return new PlainTextResponse('not found', { status: 404 })(scope, receive, send);
  }
};

test('fetch runs the app in process and resolves to a standard Response', async () => {
  const client = new TestClient(routes);
  const response = await client.fetch('/');
  expect(response).toBeInstanceOf(Response);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  expect(response.headers.get('content-length')).toBe('13');
  expect(await response.text()).toBe('Hello, world!');
  const json = await client.fetch('/json?a=1&b=two', { method: 'PATCH' });
  expect(await json.json()).toEqual({ query: { a: '1', b: 'two' }, method: 'PATCH' });
});

test('the scope has what a server would give: host, addresses, path and query bytes', async () => {
  let seen: HTTPScope | undefined;
  const client = new TestClient(async (scope, receive, send) => {
    seen = scope as HTTPScope;
    await routes(scope, receive, send);
  }, { baseUrl: 'http://example.org:8080' });
  await client.fetch('/caf%C3%A9?q=%20x', { headers: { 'X-Thing': 'yes' } });
  expect(seen).toMatchObject({ method: 'GET', path: '/café', scheme: 'http', server: ['example.org', 8080], client: ['testclient', 50000] });
  expect(new TextDecoder().decode(seen!.query_string)).toBe('q=%20x');
  const headers = Object.fromEntries(seen!.headers.map(([n, v]) => [new TextDecoder().decode(n), new TextDecoder().decode(v)]));
  expect(headers).toMatchObject({ host: 'example.org:8080', 'x-thing': 'yes' });
});

test.each([
  ['a string', 'plain text', 'plain text', 'text/plain;charset=UTF-8'],
  ['bytes', new TextEncoder().encode('bytes!'), 'bytes!', null],
  ['URLSearchParams', new URLSearchParams({ a: '1', b: '2' }), 'a=1&b=2', 'application/x-www-form-urlencoded;charset=UTF-8'],
  ['a Blob', new Blob(['blob body'], { type: 'text/x-blob' }), 'blob body', 'text/x-blob'],
] as [string, NonNullable<RequestInit['body']>, string, string | null][])('a request body from %s', async (_name, body, text, type) => {
  const response = await new TestClient(routes).fetch('/echo', { method: 'POST', body });
  expect(await response.json()).toEqual({ body: text, length: String(new TextEncoder().encode(text).length), type });
});

test('a request body from a stream arrives chunk by chunk', async () => {
  const chunks: string[] = [];
  const client = new TestClient(async (scope, receive, send) => {
    for (;;) {
      const message = await receive();
      if (message.type !== 'http.request') break;
      if (message.body && message.body.length > 0) chunks.push(new TextDecoder().decode(message.body));
      if (message.more_body !== true) break;
    }
    await new PlainTextResponse('ok')(scope, receive, send);
  });
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (const part of ['one ', 'two ', 'three']) {
        controller.enqueue(new TextEncoder().encode(part));
        await sleep(5);
      }
      controller.close();
    },
  });
  const response = await client.fetch('/upload', { method: 'POST', body, duplex: 'half' } as RequestInit);
  expect(response.status).toBe(200);
  expect(chunks).toEqual(['one ', 'two ', 'three']);
});

test('a streamed response arrives as it is sent, with backpressure', async () => {
  let produced = 0;
  const client = new TestClient(new StreamingResponse((async function* () {
    for (let i = 0; i < 100; i++) {
      produced += 1;
      yield `chunk ${i};`;
    }
  })()));
  const response = await client.fetch('/');
  const reader = response.body!.getReader();
  const first = await reader.read();
  expect(new TextDecoder().decode(first.value)).toBe('chunk 0;');
  await sleep(20);
  expect(produced).toBeLessThan(10); // the app waits for the reader, it does not run ahead
  let rest = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    rest += new TextDecoder().decode(value);
  }
  expect(rest.split(';').filter(Boolean)).toHaveLength(99);
  await client.settled();
});

test('the client disconnecting mid-response: the app sees http.disconnect, and its cleanup runs', async () => {
  let cleaned = false;
  let told: string | undefined;
  const app: ASGIApp = async (_scope, receive, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: new TextEncoder().encode('first'), more_body: true });
    try {
      let message = await receive(); // first the (empty) request body, then the disconnect
      while (message.type === 'http.request') message = await receive();
      told = message.type;
    } finally {
      cleaned = true;
    }
  };
  const client = new TestClient(app);
  const abort = new AbortController();
  const response = await client.fetch('/', { signal: abort.signal });
  const reader = response.body!.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe('first');
  abort.abort();
  await within(1000, client.settled(), 'the app');
  expect(told).toBe('http.disconnect');
  expect(cleaned).toBe(true);
  await expect(reader.read()).rejects.toThrow();
});

test('cancelling the body is the client going away too', async () => {
  let cleaned = false;
  async function* forever() {
    try {
      for (;;) {
        yield 'tick';
        await sleep(1);
      }
    } finally {
      cleaned = true;
    }
  }
  const client = new TestClient(new StreamingResponse(forever()));
  const response = await client.fetch('/');
  const reader = response.body!.getReader();
  await reader.read();
  await reader.cancel();
  await within(1000, client.settled(), 'the streaming app');
  expect(cleaned).toBe(true);
});

test('HEAD and 204 have no body; duplicate headers are kept', async () => {
  const client = new TestClient(routes);
  const head = await client.fetch('/', { method: 'HEAD' });
  expect(head.body).toBeNull();
  expect(head.headers.get('content-length')).toBe('13');
  expect((await client.fetch('/empty')).status).toBe(204);
  expect((await client.fetch('/cookies')).headers.getSetCookie()).toEqual(['a=1', 'b=2']);
});

test('an error before the start rejects fetch with that error; or becomes a 500', async () => {
  const error = new Error('boom');
  const failing: ASGIApp = async () => {
    throw error;
  };
  await expect(new TestClient(failing).fetch('/')).rejects.toBe(error);
  const response = await new TestClient(failing, { raiseAppErrors: false }).fetch('/');
  expect(response.status).toBe(500);
});

test('an app that throws synchronously is handled as one that rejects', async () => {
  const error = new Error('thrown before any promise');
  const failing = ((): Promise<void> => {
    throw error;
  }) as ASGIApp;
  await expect(new TestClient(failing, { validate: false }).fetch('/')).rejects.toBe(error);
  const response = await new TestClient(failing, { validate: false, raiseAppErrors: false }).fetch('/');
  expect(response.status).toBe(500);
});

test('the scope is what serve would build: latin-1 header bytes, a malformed escape left as sent', async () => {
  let seen: HTTPScope | undefined;
  const app: ASGIApp = async (scope, receive, send) => {
    if (scope.type === 'http') seen = scope;
    await new PlainTextResponse('ok')(scope, receive, send);
  };
  const response = await new TestClient(app).fetch('/api/%ff/caf%C3%A9?q=%ff', { headers: { 'x-v': 'café' } });
  expect(response.status).toBe(200);
  const value = seen!.headers.find(([name]) => Buffer.from(name).toString('latin1') === 'x-v')![1];
  expect([...value]).toEqual([0x63, 0x61, 0x66, 233]);
  // Decoding fails as a whole, so each escape on its own: %C3 and %A9 apart are no UTF-8 either.
  expect(seen!.path).toBe('/api/%ff/caf%C3%A9');
  expect(Buffer.from(seen!.raw_path!).toString('latin1')).toBe('/api/%ff/caf%C3%A9');
  expect(Buffer.from(seen!.query_string).toString('latin1')).toBe('q=%ff');
});

test('an error after the start breaks the body, not the status', async () => {
  const client = new TestClient(new StreamingResponse((async function* () {
    yield 'partial';
    throw new Error('Faulty Stream');
  })()));
  const response = await client.fetch('/');
  expect(response.status).toBe(200);
  await expect(response.text()).rejects.toThrow('Faulty Stream');
});

test('validation is on: a protocol mistake surfaces as a ProtocolError', async () => {
  const client = new TestClient(async (_scope, _receive, send) => {
    await send({ type: 'http.response.body', body: new Uint8Array() });
  });
  await expect(client.fetch('/')).rejects.toBeInstanceOf(ProtocolError);
});

test('lifespan: startup and shutdown around a block, with state in every request', async () => {
  const events: string[] = [];
  const app: ASGIApp = async (scope, receive, send) => {
    if (scope.type === 'lifespan') {
      await receive();
      scope.state!.greeting = 'hi from startup';
      events.push('startup');
      await send({ type: 'lifespan.startup.complete' });
      await receive();
      events.push('shutdown');
      await send({ type: 'lifespan.shutdown.complete' });
      return;
    }
    await new PlainTextResponse(String(scope.state?.greeting))(scope, receive, send);
  };
  const client = new TestClient(app);
  const body = await client.lifespan(async () => {
    expect(events).toEqual(['startup']);
    return (await client.fetch('/')).text();
  });
  expect(body).toBe('hi from startup');
  expect(events).toEqual(['startup', 'shutdown']);
});

test('a failed startup rejects', async () => {
  const client = new TestClient(async (scope, receive, send) => {
    if (scope.type !== 'lifespan') return;
    await receive();
    await send({ type: 'lifespan.startup.failed', message: 'no database' });
  });
  await expect(client.startup()).rejects.toThrow('lifespan startup failed: no database');
});

test('baseHTTPMiddleware through the TestClient: a header added, and nothing left running', async () => {
  let finished = false;
  const app = baseHTTPMiddleware(async (scope, receive, send) => {
    await new PlainTextResponse('downstream', {
      background: async () => {
        await sleep(20);
        finished = true;
      },
    })(scope, receive, send);
  }, async (request, callNext) => {
    const response = await callNext(request);
    response.headers.set('x-middleware', 'yes');
    return response;
  });
  const client = new TestClient(app);
  const response = await client.fetch('/');
  expect(response.headers.get('x-middleware')).toBe('yes');
  expect(await response.text()).toBe('downstream');
  await client.settled();
  expect(finished).toBe(true);
});
