/**
 * FastResponse: a Response kept light until something needs the native one. It must pass for the
 * native class in everything a handler or a reader can observe, refuse what the native constructor
 * refuses, and reach the client byte for byte as the native one would, through fromFetchHandler
 * with `overrideGlobalResponse` under serve.
 */
import { jest } from '@jest/globals';
import fc from 'fast-check';
import { Hono } from 'hono';
import { FastResponse, fromFetchHandler, type ASGIApp } from '../../src/index.js';
import { fastResponseDefers, lightParts } from '../../src/fetch/fast-response.js';
import { serve, type ServerHandle } from '../../src/node/index.js';

jest.setTimeout(30_000);

const NativeResponse = globalThis.Response;
type Init = ConstructorParameters<typeof Response>[1];
type Body = ConstructorParameters<typeof Response>[0];

/** Everything a reader can see of a response, body read last. */
async function observe(response: Response) {
  const seen = {
    status: response.status, ok: response.ok, statusText: response.statusText, type: response.type, url: response.url,
    redirected: response.redirected, headers: [...response.headers], cookies: response.headers.getSetCookie(),
    isResponse: response instanceof NativeResponse, bodyNull: response.body === null, bodyUsedBefore: response.bodyUsed,
  };
  const text = await response.text();
  return { ...seen, text, bodyUsedAfter: response.bodyUsed };
}

function outcome(make: () => Response): { value: Response } | { error: string } {
  try {
    return { value: make() };
  } catch (error) {
    return { error: `${(error as Error).constructor.name}: ${(error as Error).message}` };
  }
}

const cases: [string, Body, Init][] = [
  ['no body, no init', null, undefined],
  ['a string', 'hello', undefined],
  ['bytes', new Uint8Array([1, 2, 3]), undefined],
  ['a string with a status and a plain header record', 'made', { status: 201, headers: { 'x-a': '1', 'content-type': 'text/html' } }],
  ['mixed-case names', 'x', { headers: { 'Content-Type': 'application/json', 'X-Id': '7' } }],
  ['names the same but for case (joined by Headers)', 'x', { headers: { 'X-A': '1', 'x-a': '2' } }],
  ['a value with whitespace to trim', 'x', { headers: { 'x-pad': '  v  ' } }],
  ['a Headers object with cookies', 'x', { headers: (() => { const h = new Headers(); h.append('set-cookie', 'a=1'); h.append('set-cookie', 'b=2'); return h; })() }],
  ['header pairs', 'x', { headers: [['x-a', '1'], ['x-a', '2']] }],
  ['a 204 without a body', null, { status: 204 }],
  ['a 599', 'late', { status: 599 }],
  ['a status text', 'x', { status: 418, statusText: 'teapot' }],
  ['a string status', 'x', { status: '202' as unknown as number }],
  ['a URLSearchParams body', new URLSearchParams('a=1&b=2'), undefined],
  ['a stream body', new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('streamed')); c.close(); } }), undefined],
  // Refused by the native constructor: the FastResponse must throw the same.
  ['a 204 with a body', 'no', { status: 204 }],
  ['a status below 200', 'x', { status: 199 }],
  ['a status above 599', 'x', { status: 600 }],
  ['a fractional status', 'x', { status: 200.5 }],
  ['a bad header name', 'x', { headers: { 'bad name': '1' } }],
  ['a header value with a newline inside', 'x', { headers: { 'x-a': 'a\nb' } }],
  ['a bad status text', 'x', { statusText: 'a\nb' }],
  ['an own __proto__ key', 'x', { headers: Object.defineProperty({ 'x-a': '1' }, '__proto__', { value: 'v', enumerable: true }) as Record<string, string> }],
  ['a header value past latin-1', 'x', { headers: { 'x-a': '€' } }],
  ['a latin-1 header value', 'x', { headers: { 'x-a': 'café' } }],
];

describe('FastResponse passes for the native Response', () => {
  test('on this Node, the load-time check passes: responses are kept light', () => {
    expect(fastResponseDefers).toBe(true);
  });

  test.each(cases)('%s', async (_name, body, init) => {
    // Streams and other one-shot bodies cannot be shared between the two constructions.
    const copy = (b: Body): Body => (b instanceof ReadableStream ? new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('streamed')); c.close(); } }) : b);
    const native = outcome(() => new NativeResponse(copy(body), init));
    const fast = outcome(() => new FastResponse(copy(body), init));
    if ('error' in native) {
      expect(fast).toEqual(native);
      return;
    }
    expect('value' in fast).toBe(true);
    expect(await observe((fast as { value: Response }).value)).toEqual(await observe(native.value));
  });

  test('instanceof holds both ways, and undici reads a FastResponse as its own', async () => {
    const fast = new FastResponse('payload', { status: 203, headers: { 'x-a': '1' } });
    expect(fast instanceof NativeResponse).toBe(true);
    expect(new NativeResponse('x') instanceof FastResponse).toBe(true);
    // Undici's own methods and constructors, given the light object.
    expect(await NativeResponse.prototype.text.call(fast)).toBe('payload');
    const again = new FastResponse('payload', { status: 203, headers: { 'x-a': '1' } });
    const copy = new NativeResponse(again.body, again);
    expect([copy.status, copy.headers.get('x-a'), await copy.text()]).toEqual([203, '1', 'payload']);
    const cloned = new FastResponse('twice').clone();
    expect(await cloned.text()).toBe('twice');
    expect(FastResponse.json({ a: 1 }).headers.get('content-type')).toBe('application/json');
    expect(await FastResponse.json({ a: 1 }).json()).toEqual({ a: 1 });
  });

  test('it stays light through status and headers, and turns native once the body is touched', () => {
    const response = new FastResponse('hello', { headers: { 'x-a': '1' } });
    expect(lightParts(response)).toBeDefined();
    response.headers.set('x-b', '2');
    expect(response.status).toBe(200);
    expect(lightParts(response)?.headers).toBe(response.headers);
    void response.body;
    expect(lightParts(response)).toBeUndefined();
    // The headers handed out before are still the ones it answers with.
    expect(response.headers.get('x-b')).toBe('2');
  });

  test('a Headers init is copied, as the native constructor copies it', () => {
    const headers = new Headers({ 'x-a': '1' });
    const fast = new FastResponse('x', { headers });
    const native = new NativeResponse('x', { headers });
    headers.set('x-a', 'changed');
    expect(fast.headers.get('x-a')).toBe(native.headers.get('x-a'));
    expect(fast.headers.get('x-a')).toBe('1');
  });

  test('any plain header record reads the same as through the native class (property)', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
    const value = fc.stringMatching(/^[\t -~]{0,12}$/);
    fc.assert(fc.property(fc.dictionary(name, value, { maxKeys: 6 }), fc.option(fc.string({ maxLength: 8 }), { nil: null }), (record, body) => {
      const native = outcome(() => new NativeResponse(body, { headers: record }));
      const fast = outcome(() => new FastResponse(body, { headers: record }));
      if ('error' in native) return expect(fast).toEqual(native);
      expect([...(fast as { value: Response }).value.headers]).toEqual([...native.value.headers]);
    }), { numRuns: 300 });
  });
});

describe('what a caller does after building it reads the same as with the native class', () => {
  const scenarios: [string, (R: typeof Response) => Promise<unknown>][] = [
    ['bytes changed after construction', async (R) => {
      const bytes = new TextEncoder().encode('ABC');
      const response = new R(bytes);
      bytes[0] = 0x5a;
      return response.text();
    }],
    ['a header record changed after construction', async (R) => {
      const record: Record<string, string> = { 'x-tag': 'ok' };
      const response = new R('x', { headers: record });
      record['x-tag'] = 'changed';
      record['x-new'] = 'added';
      return [...response.headers];
    }],
    ['a record with a getter (read once)', async (R) => {
      let reads = 0;
      const record = Object.defineProperty({}, 'x-a', { enumerable: true, get: () => `${++reads}` });
      const response = new R('x', { headers: record as Record<string, string> });
      return [[...response.headers], reads];
    }],
    ['a record with a symbol key', async (R) => [...new R('x', { headers: { 'x-a': '1', [Symbol('s')]: '2' } as unknown as Record<string, string> }).headers]],
    ['headers read, the response cloned, then a header set and the clone cloned again', async (R) => {
      const response = new R('hello', { headers: { 'x-a': '1' } });
      void response.headers.get('x-a');
      response.clone();
      response.headers.set('etag', '"h"');
      return response.clone().headers.get('etag');
    }],
    ['a Headers init, the body read, then a header set and the response cloned', async (R) => {
      const response = new R('x', { headers: new Headers({ a: '1' }) });
      void response.body;
      response.headers.set('b', '2');
      return [...response.clone().headers];
    }],
    ['headers read, the body touched, the content type changed, then blob() read', async (R) => {
      const response = new R('{"a":1}');
      void response.headers.get('content-type');
      void response.bodyUsed;
      response.headers.set('content-type', 'application/json');
      return (await response.blob()).type;
    }],
    ['headers read, the body touched, form data read after its content type was set', async (R) => {
      const response = new R('a=1');
      void response.headers.get('content-type');
      void response.body;
      response.headers.set('content-type', 'application/x-www-form-urlencoded');
      return [...(await response.formData())];
    }],
    ['the name and arity of the class', async (R) => [R.name, R.length]],
  ];

  test.each(scenarios)('%s', async (_name, scenario) => {
    const run = async (R: typeof Response) => {
      try {
        return { value: await scenario(R) };
      } catch (error) {
        return { error: `${(error as Error).constructor.name}: ${(error as Error).message}` };
      }
    };
    expect(await run(FastResponse)).toEqual(await run(NativeResponse));
  });

  test('buffers the native constructor refuses are refused the same', () => {
    const detached = new Uint8Array(4);
    structuredClone(detached, { transfer: [detached.buffer] });
    const resizable = new Uint8Array(new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(4, { maxByteLength: 8 }));
    for (const body of [new Uint8Array(new SharedArrayBuffer(4)), resizable, detached]) {
      const native = outcome(() => new NativeResponse(body));
      expect('error' in native).toBe(true);
      expect(outcome(() => new FastResponse(body))).toEqual(native);
    }
  });

  test('a header on Object.prototype is not sent', async () => {
    const polluted = Object.prototype as unknown as Record<string, string>;
    polluted['x-polluted'] = 'yes';
    try {
      const response = new FastResponse('x', { headers: { 'x-a': '1' } });
      expect(lightParts(response)?.headers).toEqual(['x-a', '1']);
      expect(response.headers.has('x-polluted')).toBe(false);
    } finally {
      delete polluted['x-polluted'];
    }
  });

  test('a subclass is read through its own getters, not what was kept', () => {
    class Teapot extends FastResponse {}
    Object.defineProperty(Teapot.prototype, 'status', { get: () => 418 });
    expect(lightParts(new Teapot('x'))).toBeUndefined();
  });
});

describe('fromFetchHandler with overrideGlobalResponse, under serve', () => {
  let handle: ServerHandle | undefined;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
    Object.defineProperty(globalThis, 'Response', { value: NativeResponse, writable: true, configurable: true, enumerable: false });
  });

  function honoApp() {
    const hono = new Hono();
    hono.use('*', async (c, next) => {
      await next();
      c.header('x-after', 'ran');
    });
    hono.get('/', (c) => c.text('Hello from Hono'));
    hono.get('/json', (c) => c.json({ name: c.req.query('name') ?? 'world' }, 201));
    hono.get('/html', (c) => c.html('<p>hi</p>'));
    hono.get('/empty', (c) => c.body(null, 204));
    hono.get('/bytes', () => new Response(new Uint8Array([0, 1, 2, 255]), { headers: { 'Content-Type': 'application/octet-stream' } }));
    hono.get('/cookies', (c) => {
      c.header('set-cookie', 'a=1', { append: true });
      c.header('set-cookie', 'b=2', { append: true });
      return c.text('cookies');
    });
    hono.get('/redirect', (c) => c.redirect('/json', 302));
    hono.post('/echo', async (c) => c.text(`echo: ${await c.req.text()}`));
    return hono;
  }

  async function wire(app: ASGIApp) {
    handle = await serve(app, { port: 0, signals: false, lifespan: 'off', validate: true, logger: { error: () => {}, warn: () => {}, info: () => {} } });
    const url = handle.url;
    const seen = [];
    for (const [path, init] of [['/', {}], ['/json?name=ada', {}], ['/html', {}], ['/empty', {}], ['/bytes', {}], ['/cookies', {}], ['/redirect', { redirect: 'manual' }], ['/echo', { method: 'POST', body: 'hi' }], ['/missing', {}]] as [string, RequestInit][]) {
      const response = await fetch(`${url}${path}`, init);
      const headers = [...response.headers].filter(([name]) => name !== 'date' && name !== 'keep-alive' && name !== 'connection');
      seen.push({ path, status: response.status, headers, body: [...new Uint8Array(await response.arrayBuffer())] });
    }
    await handle.close();
    handle = undefined;
    return seen;
  }

  test('the global is replaced, and every response reaches the client exactly as without it', async () => {
    const plain = await wire(fromFetchHandler(honoApp().fetch));
    expect(globalThis.Response).toBe(NativeResponse);
    const hono = honoApp();
    const fast = await wire(fromFetchHandler(hono.fetch, { overrideGlobalResponse: true }));
    expect(globalThis.Response).toBe(FastResponse);
    expect(fast).toEqual(plain);
    expect(fast.find((r) => r.path === '/')!.headers).toEqual(expect.arrayContaining([['content-type', 'text/plain;charset=UTF-8'], ['x-after', 'ran'], ['content-length', '15']]));
    expect(fast.find((r) => r.path === '/bytes')!.body).toEqual([0, 1, 2, 255]);
  });

  test('two requests answered from one reused buffer each get their own bytes', async () => {
    const scratch = new Uint8Array(8);
    let second!: () => void;
    const secondArrived = new Promise<void>((resolve) => { second = resolve; });
    const app = fromFetchHandler(async (request) => {
      const name = new URL(request.url).pathname.slice(1);
      scratch.fill(0x2e);
      scratch.set(new TextEncoder().encode(name));
      const response = new Response(scratch);
      if (name === 'alice') await secondArrived;
      else second();
      return response;
    }, { overrideGlobalResponse: true });
    handle = await serve(app, { port: 0, signals: false, lifespan: 'off', logger: { error: () => {}, warn: () => {}, info: () => {} } });
    const alice = fetch(`${handle.url}/alice`).then((r) => r.text());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const bob = fetch(`${handle.url}/bob`).then((r) => r.text());
    expect(await Promise.all([alice, bob])).toEqual(['alice...', 'bob.....']);
  });

  test('a response built light is sent without the native object ever being made', async () => {
    const made: Response[] = [];
    const app = fromFetchHandler(() => {
      const response = new Response('light', { headers: { 'x-a': '1' } });
      made.push(response);
      return response;
    }, { overrideGlobalResponse: true });
    handle = await serve(app, { port: 0, signals: false, lifespan: 'off', logger: { error: () => {}, warn: () => {}, info: () => {} } });
    const response = await fetch(handle.url);
    expect([response.status, response.headers.get('x-a'), response.headers.get('content-type'), await response.text()]).toEqual([200, '1', 'text/plain;charset=UTF-8', 'light']);
    expect(lightParts(made[0]!)).toBeDefined();
  });
});
