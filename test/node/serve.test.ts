/** serve() over real sockets on 127.0.0.1, on ephemeral ports. */
import { jest } from '@jest/globals';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import {
  ClientDisconnect,
  PlainTextResponse,
  StreamingResponse,
  type ASGIApp,
  type ASGIReceiveEvent,
  type HTTPScope,
} from '../../src/index.js';
import { serve, type Logger, type ServerHandle } from '../../src/node/index.js';
import { sleep, within } from '../support/asgi.js';
import { liveBytes } from '../support/gc.js';

jest.setTimeout(20_000);

const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('latin1');

function quietLogger() {
  const lines: string[] = [];
  const logger: Logger = {
    error: (m) => lines.push(`error: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
  };
  return { logger, lines };
}

let handle: ServerHandle | undefined;
afterEach(async () => {
  await handle?.close();
  handle = undefined;
});

async function start(app: ASGIApp, options: Parameters<typeof serve>[1] = {}) {
  const log = quietLogger();
  handle = await serve(app, { port: 0, signals: false, logger: log.logger, ...options });
  return { ...handle, lines: log.lines };
}

interface Reply {
  status: number;
  rawHeaders: string[];
  body: string;
  message: IncomingMessage;
}

function get(url: string, options: { method?: string; headers?: Record<string, string | string[]>; agent?: Agent; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString(), message: res }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const hello: ASGIApp = async (scope, receive, send) => {
  await new PlainTextResponse(`Hello from ${scope.type === 'http' ? scope.path : ''}`)(scope, receive, send);
};

test('serves an app and resolves to { url, port, close } once listening', async () => {
  const server = await start(hello);
  expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  expect(server.port).toBeGreaterThan(0);
  const reply = await get(`${server.url}/hi`);
  expect(reply.status).toBe(200);
  expect(reply.body).toBe('Hello from /hi');
});

test('the scope: version, method, path decoded and raw, query bytes, headers in order with duplicates, addresses', async () => {
  let seen: HTTPScope | undefined;
  const server = await start(async (scope, receive, send) => {
    seen = scope as HTTPScope;
    await hello(scope, receive, send);
  }, { rootPath: '' });
  await get(`${server.url}/caf%C3%A9/a%2Fb?x=1&y=%20`, { headers: { 'X-Multi': ['one', 'two'], Accept: 'text/plain' } });
  expect(seen).toMatchObject({ type: 'http', http_version: '1.1', method: 'GET', scheme: 'http', path: '/café/a/b', root_path: '' });
  expect(seen?.asgi).toEqual({ version: '3.0', spec_version: '2.5' });
  expect(text(seen!.raw_path!)).toBe('/caf%C3%A9/a%2Fb');
  expect(text(seen!.query_string)).toBe('x=1&y=%20');
  const names = seen!.headers.map(([n]) => text(n));
  expect(names.filter((n) => n === 'x-multi')).toHaveLength(2);
  expect(seen!.headers.filter(([n]) => text(n) === 'x-multi').map(([, v]) => text(v))).toEqual(['one', 'two']);
  expect(names.every((n) => n === n.toLowerCase())).toBe(true);
  expect(seen!.client?.[0]).toBe('127.0.0.1');
  expect(seen!.server).toEqual(['127.0.0.1', server.port]);
});

test('keep-alive: several requests on one connection', async () => {
  const ports = new Set<number>();
  const server = await start(async (scope, receive, send) => {
    ports.add((scope as HTTPScope).client![1]);
    await hello(scope, receive, send);
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 5; i++) expect((await get(`${server.url}/${i}`, { agent })).body).toBe(`Hello from /${i}`);
  agent.destroy();
  expect(ports.size).toBe(1);
});

test('an app that ignores the request body leaves the connection usable for the next request', async () => {
  const server = await start(hello);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const first = await get(`${server.url}/upload`, { method: 'POST', headers: { 'content-length': '11' }, body: 'ignored!!!!', agent });
  const second = await get(`${server.url}/after`, { agent });
  agent.destroy();
  expect([first.body, second.body]).toEqual(['Hello from /upload', 'Hello from /after']);
});

test('a chunked request upload is read in chunks, as they arrive', async () => {
  const received: ASGIReceiveEvent[] = [];
  const server = await start(async (scope, receive, send) => {
    for (;;) {
      const message = await receive();
      received.push(message);
      if (message.type !== 'http.request' || message.more_body !== true) break;
    }
    await new PlainTextResponse('ok')(scope, receive, send);
  });
  const reply = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${server.url}/upload`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    void (async () => {
      for (const part of ['first ', 'second ', 'third']) {
        req.write(part);
        await sleep(30);
      }
      req.end();
    })();
  });
  expect(reply).toBe(200);
  const chunks = received.filter((m): m is Extract<ASGIReceiveEvent, { type: 'http.request' }> => m.type === 'http.request');
  expect(chunks.length).toBeGreaterThanOrEqual(3);
  expect(chunks.map((m) => text(m.body)).join('')).toBe('first second third');
  expect(chunks.at(-1)?.more_body).toBe(false);
  expect(chunks.slice(0, -1).every((m) => m.more_body === true)).toBe(true);
});

test('a large streamed response read slowly by the client, in bounded server memory', async () => {
  const MiB = 1024 * 1024;
  const CHUNK = 64 * 1024;
  const TOTAL = 64 * MiB;
  let sent = 0;
  const server = await start(async (scope, receive, send) => {
    async function* body() {
      for (; sent < TOTAL; sent += CHUNK) yield new Uint8Array(CHUNK).fill(7);
    }
    await new StreamingResponse(body())(scope, receive, send);
  }, { validate: false });
  const baseline = await liveBytes();
  const samples: number[] = [];
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    httpRequest(`${server.url}/big`, (res) => {
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        // A slow reader: every MiB, stop for a moment and measure what the server holds.
        if (received % MiB < chunk.length) {
          res.pause();
          void liveBytes().then((live) => {
            samples.push(live - baseline);
            setTimeout(() => res.resume(), 5);
          });
        }
      });
      res.on('end', () => resolve());
      res.on('error', reject);
    }).on('error', reject).end();
  });
  expect(received).toBe(TOTAL);
  expect(samples.length).toBeGreaterThan(32);
  // The socket's buffers and a few chunks, not the 64 MiB the app could have raced ahead with.
  const peak = Math.max(...samples);
  console.log(`64 MiB read slowly: peak live growth ${(peak / 1024).toFixed(0)} KiB over ${samples.length} samples`);
  expect(peak).toBeLessThan(4 * MiB);
});

test('a client that aborts mid-response: the app sees http.disconnect within a second, and its cleanup runs', async () => {
  let sawDisconnect = 0;
  let cleaned = 0;
  let streaming!: () => void;
  const isStreaming = new Promise<void>((resolve) => { streaming = resolve; });
  const server = await start(async (scope, receive, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: Buffer.from('first'), more_body: true });
    streaming();
    try {
      const message = await receive();
      if (message.type === 'http.disconnect') sawDisconnect = Date.now();
    } finally {
      cleaned = Date.now();
    }
  });
  const req = httpRequest(`${server.url}/stream`, (res) => res.on('data', () => {}));
  req.on('error', () => {});
  req.end();
  await isStreaming;
  const abortedAt = Date.now();
  req.destroy();
  await within(1000, (async () => { while (cleaned === 0) await sleep(5); })(), 'the app seeing the disconnect');
  expect(sawDisconnect - abortedAt).toBeLessThan(1000);
  expect(cleaned).toBeGreaterThanOrEqual(sawDisconnect);
});

test('send() after the client left raises ClientDisconnect, which the app can catch', async () => {
  let caught: unknown;
  let finished = false;
  let streaming!: () => void;
  const isStreaming = new Promise<void>((resolve) => { streaming = resolve; });
  const server = await start(async (_scope, receive, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: Buffer.from('x'), more_body: true });
    streaming();
    await receive(); // the (empty) request body, at once
    await receive(); // the disconnect
    try {
      await send({ type: 'http.response.body', body: Buffer.from('too late') });
    } catch (error) {
      caught = error;
    }
    finished = true;
  });
  const req = httpRequest(`${server.url}/`, (res) => res.resume());
  req.on('error', () => {});
  req.end();
  await isStreaming;
  req.destroy();
  await within(2000, (async () => { while (!finished) await sleep(5); })());
  expect(caught).toBeInstanceOf(ClientDisconnect);
  expect(server.lines.filter((l) => l.startsWith('error'))).toEqual([]); // a closed connection is not logged as an error
});

test('HEAD sends the headers and no body', async () => {
  const server = await start(hello);
  const reply = await get(`${server.url}/x`, { method: 'HEAD' });
  expect(reply.status).toBe(200);
  expect(reply.body).toBe('');
  expect(reply.message.headers['content-length']).toBe('13');
});

test('204 and 304 go without a body', async () => {
  const server = await start(async (scope, receive, send) => {
    const status = (scope as HTTPScope).path === '/204' ? 204 : 304;
    await send({ type: 'http.response.start', status, headers: [] });
    await send({ type: 'http.response.body', body: new Uint8Array() });
  });
  for (const status of [204, 304]) {
    const reply = await get(`${server.url}/${status}`);
    expect(reply.status).toBe(status);
    expect(reply.body).toBe('');
    expect(reply.message.headers['content-length']).toBeUndefined();
    expect(reply.message.headers['transfer-encoding']).toBeUndefined();
  }
});

test('response headers with duplicates reach the client as sent', async () => {
  const server = await start(async (_scope, _receive, send) => {
    await send({
      type: 'http.response.start', status: 200,
      headers: [[Buffer.from('set-cookie'), Buffer.from('a=1')], [Buffer.from('x-order'), Buffer.from('1')], [Buffer.from('set-cookie'), Buffer.from('b=2')]],
    });
    await send({ type: 'http.response.body', body: Buffer.from('ok') });
  });
  const reply = await get(server.url);
  const pairs: [string, string][] = [];
  for (let i = 0; i < reply.rawHeaders.length; i += 2) pairs.push([reply.rawHeaders[i]!.toLowerCase(), reply.rawHeaders[i + 1]!]);
  expect(pairs.filter(([n]) => n === 'set-cookie' || n === 'x-order')).toEqual([['set-cookie', 'a=1'], ['x-order', '1'], ['set-cookie', 'b=2']]);
  expect(reply.message.headers['content-length']).toBe('2');
});

test('an app that throws before the start gets a 500, logged once with the request line', async () => {
  const server = await start(async () => {
    throw new Error('boom');
  });
  const reply = await get(`${server.url}/explode?x=1`);
  expect(reply.status).toBe(500);
  expect(reply.body).toBe('Internal Server Error');
  expect(server.lines.filter((l) => l.startsWith('error'))).toEqual([`error: Exception in ASGI application, "GET /explode?x=1 HTTP/1.1"`]);
});

test('an app that returns without a response gets a 500, logged once', async () => {
  const server = await start(async () => {}, { validate: false });
  const reply = await get(`${server.url}/nothing`);
  expect(reply.status).toBe(500);
  expect(server.lines).toEqual([`error: ASGI application returned without starting a response, "GET /nothing HTTP/1.1"`]);
});

test('an app that throws after the start has its connection aborted', async () => {
  const server = await start(async (_scope, _receive, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: Buffer.from('partial'), more_body: true });
    throw new Error('mid-stream');
  });
  await expect(get(`${server.url}/half`)).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
  expect(server.lines.filter((l) => l.startsWith('error'))).toEqual([`error: Exception in ASGI application, "GET /half HTTP/1.1"`]);
});

test('validation is on by default: a malformed message never reaches the client', async () => {
  const server = await start(async (_scope, _receive, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [[Buffer.from('x-evil'), Buffer.from('a\r\nset-cookie: pwned=1')]] });
  });
  const reply = await get(server.url);
  expect(reply.status).toBe(500);
  expect(reply.rawHeaders.join('\n')).not.toContain('pwned');
});

test('Expect: 100-continue is answered when the app first asks for the body', async () => {
  const server = await start(async (scope, receive, send) => {
    let body = '';
    for (;;) {
      const m = await receive();
      if (m.type !== 'http.request') break;
      body += text(m.body);
      if (m.more_body !== true) break;
    }
    await new PlainTextResponse(`got ${body}`)(scope, receive, send);
  });
  const reply = await new Promise<string>((resolve, reject) => {
    const req = httpRequest(`${server.url}/`, { method: 'POST', headers: { expect: '100-continue', 'content-length': '4' } }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve(data));
    });
    req.on('continue', () => req.end('data'));
    req.on('error', reject);
  });
  expect(reply).toBe('got data');
});

test('trailers go to a client that asked for them', async () => {
  const server = await start(async (_scope, _receive, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [[Buffer.from('trailer'), Buffer.from('x-checksum')]], trailers: true });
    await send({ type: 'http.response.body', body: Buffer.from('payload') });
    await send({ type: 'http.response.trailers', headers: [[Buffer.from('x-checksum'), Buffer.from('abc123')]] });
  });
  const trailers = await new Promise<Record<string, string | undefined>>((resolve, reject) => {
    httpRequest(server.url, { headers: { te: 'trailers' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.trailers));
    }).on('error', reject).end();
  });
  expect(trailers).toEqual({ 'x-checksum': 'abc123' });
});

test('lifespan: startup before listening, state in every request, shutdown on close', async () => {
  const events: string[] = [];
  const app: ASGIApp = async (scope, receive, send) => {
    if (scope.type === 'lifespan') {
      await receive();
      events.push('startup');
      scope.state!.db = 'connected';
      await send({ type: 'lifespan.startup.complete' });
      await receive();
      events.push('shutdown');
      await send({ type: 'lifespan.shutdown.complete' });
      return;
    }
    await new PlainTextResponse(String(scope.state?.db))(scope, receive, send);
  };
  const server = await start(app);
  expect(events).toEqual(['startup']);
  expect((await get(server.url)).body).toBe('connected');
  await server.close();
  expect(events).toEqual(['startup', 'shutdown']);
});

test('lifespan startup failure refuses to start', async () => {
  const app: ASGIApp = async (scope, receive, send) => {
    if (scope.type !== 'lifespan') return;
    await receive();
    await send({ type: 'lifespan.startup.failed', message: 'no database' });
  };
  await expect(serve(app, { port: 0, signals: false, logger: quietLogger().logger })).rejects.toThrow('lifespan startup failed: no database');
});

test('an app without lifespan support still serves', async () => {
  const server = await start(async (scope, receive, send) => {
    if (scope.type === 'lifespan') throw new Error('lifespan? never heard of it');
    await hello(scope, receive, send);
  });
  expect((await get(server.url)).status).toBe(200);
  expect(server.lines[0]).toMatch(/lifespan' protocol appears unsupported/);
});

test('graceful shutdown lets a request in flight finish, then refuses new connections', async () => {
  let inFlight!: () => void;
  const started = new Promise<void>((resolve) => { inFlight = resolve; });
  const server = await start(async (scope, receive, send) => {
    if (scope.type !== 'http') return;
    inFlight();
    await sleep(300);
    await new PlainTextResponse('finished')(scope, receive, send);
  }, { gracePeriod: 5000 });
  const pending = get(`${server.url}/slow`);
  await started;
  const closed = server.close();
  const reply = await pending;
  expect(reply.body).toBe('finished');
  await closed;
  const probe = await new Promise<string>((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve('connected'); });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
  expect(probe).toBe('ECONNREFUSED');
  handle = undefined;
});

test('past the grace period, shutdown cuts the requests still running, and tells their apps', async () => {
  let told: string | undefined;
  const server = await start(async (scope, receive, _send) => {
    if (scope.type !== 'http') return;
    // A slow app that listens: it learns the client is gone when the connection is cut.
    // (The first receive() is the empty body of the GET; the second waits for the disconnect.)
    told = await Promise.race([sleep(5000).then(() => 'nothing'), receive().then(() => receive()).then((m) => m.type)]);
  }, { gracePeriod: 100, validate: false });
  const pending = get(`${server.url}/stuck`).then(() => 'answered', () => 'cut');
  await sleep(50);
  const t0 = Date.now();
  await server.close();
  expect(Date.now() - t0).toBeLessThan(4000);
  expect(await pending).toBe('cut');
  expect(server.lines.some((l) => l.includes('grace period'))).toBe(true);
  await within(1000, (async () => { while (told === undefined) await sleep(5); })());
  expect(told).toBe('http.disconnect');
  handle = undefined;
});
