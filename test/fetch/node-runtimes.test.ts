/**
 * toFetchHandler over real sockets on Node's fetch-handler servers, @hono/node-server and srvx:
 * the client address they pass, streaming both ways, and the client leaving.
 */
import { jest } from '@jest/globals';
import { serve as honoServe } from '@hono/node-server';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FastResponse, serve as srvxServe } from 'srvx/node';
import { toFetchHandler, type ASGIApp, type ASGIReceiveEvent, type FetchHandler, type HTTPScope } from '../../src/index.js';
import { sleep, within } from '../support/asgi.js';

jest.setTimeout(30_000);

const encoder = new TextEncoder();
const disconnects: string[] = [];
let lastScope: HTTPScope | undefined;

/** text, upload echo (counts bytes as they come), a slow stream that notices the client leaving. */
const app: ASGIApp = async (scope, receive, send) => {
  if (scope.type !== 'http') return;
  lastScope = scope;
  if (scope.path === '/upload') {
    let total = 0;
    let chunks = 0;
    for (;;) {
      const message = await receive();
      if (message.type !== 'http.request') return;
      total += message.body?.length ?? 0;
      chunks += 1;
      if (message.more_body !== true) break;
    }
    await send({ type: 'http.response.start', status: 200, headers: [[encoder.encode('content-type'), encoder.encode('application/json')]] });
    await send({ type: 'http.response.body', body: encoder.encode(JSON.stringify({ total, chunks })) });
    return;
  }
  if (scope.path === '/stream') {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    // An endless stream; when the client goes, the next send raises or receive says so.
    const left: Promise<ASGIReceiveEvent> = receive().then(() => receive());
    try {
      for (let i = 0; ; i++) {
        const tick = await Promise.race([sleep(10).then(() => null), left]);
        if (tick !== null) break;
        await send({ type: 'http.response.body', body: encoder.encode(`tick ${i}\n`), more_body: true });
      }
    } catch {
      // ClientDisconnect from send: the same news.
    }
    disconnects.push('stream');
    return;
  }
  if (scope.path === '/cookies') {
    const cookie = (value: string) => [encoder.encode('set-cookie'), encoder.encode(value)] as [Uint8Array, Uint8Array];
    await send({ type: 'http.response.start', status: 201, headers: [cookie('a=1'), cookie('b=2'), [encoder.encode('x-kind'), encoder.encode('cookies')]] });
    await send({ type: 'http.response.body', body: encoder.encode('made') });
    return;
  }
  if (scope.path === '/nothing') {
    await send({ type: 'http.response.start', status: 204, headers: [] });
    await send({ type: 'http.response.body' });
    return;
  }
  await send({ type: 'http.response.start', status: 200, headers: [[encoder.encode('content-type'), encoder.encode('text/plain')]] });
  await send({ type: 'http.response.body', body: encoder.encode(`hello ${scope.method} ${scope.path}`) });
};

/** node:http sends repeated headers as separate lines, as they were given. */
function rawGet(url: string, headers: Record<string, string | string[]>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function exercise(url: string) {
  // The raw header list reaches the scope: wire order, original duplicates, names lower-cased.
  expect(await rawGet(`${url}/raw`, { 'X-Zed': 'z', 'X-Dup': ['1', '2'], 'X-Alpha': 'a' })).toBe(200);
  const names = lastScope!.headers.map(([n, v]) => `${new TextDecoder().decode(n)}=${new TextDecoder().decode(v)}`);
  expect(names.filter((n) => n.startsWith('x-'))).toEqual(['x-zed=z', 'x-dup=1', 'x-dup=2', 'x-alpha=a']);

  const text = await fetch(`${url}/hi%20there?x=1`);
  expect(await text.text()).toBe('hello GET /hi there');
  expect(text.headers.get('content-length')).toBe('19');
  expect(lastScope!.client![0]).toMatch(/127\.0\.0\.1/);
  expect(lastScope!.client![1]).toBeGreaterThan(0);
  expect(new TextDecoder().decode(lastScope!.query_string)).toBe('x=1');

  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent === 16) return controller.close();
      sent += 1;
      await sleep(2);
      controller.enqueue(new Uint8Array(32 * 1024).fill(sent));
    },
  });
  const upload = await fetch(`${url}/upload`, { method: 'POST', body, duplex: 'half' } as RequestInit);
  const result = (await upload.json()) as { total: number; chunks: number };
  expect(result.total).toBe(16 * 32 * 1024);
  expect(result.chunks).toBeGreaterThan(2);

  const cookies = await fetch(`${url}/cookies`);
  expect(cookies.status).toBe(201);
  expect(cookies.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  expect(cookies.headers.get('x-kind')).toBe('cookies');
  expect(await cookies.text()).toBe('made');
  const nothing = await fetch(`${url}/nothing`);
  expect(nothing.status).toBe(204);
  expect(await nothing.text()).toBe('');
  const head = await fetch(`${url}/hi`, { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(await head.text()).toBe('');

  const abort = new AbortController();
  const streamed = await fetch(`${url}/stream`, { signal: abort.signal });
  const reader = streamed.body!.getReader();
  const first = await reader.read();
  expect(new TextDecoder().decode(first.value)).toMatch(/^tick 0/);
  const before = disconnects.length;
  abort.abort();
  await within(10_000, (async () => { while (disconnects.length === before) await sleep(10); })(), 'the app noticing the client left');
}

test('on @hono/node-server', async () => {
  const handler: FetchHandler = toFetchHandler(app, { validate: true });
  const server = await new Promise<ReturnType<typeof honoServe>>((resolve) => {
    const s = honoServe({ fetch: handler.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  try {
    await exercise(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    (server as Server).closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('on srvx', async () => {
  const handler = toFetchHandler(app, { validate: true });
  const server = srvxServe({ fetch: handler.fetch, port: 0, hostname: '127.0.0.1', silent: true });
  await server.ready();
  try {
    await exercise(server.url!.replace(/\/$/, ''));
  } finally {
    await server.close(true);
  }
});

test('on srvx, with responses built as its FastResponse', async () => {
  const handler = toFetchHandler(app, { validate: true, responseClass: FastResponse });
  const server = srvxServe({ fetch: handler.fetch, port: 0, hostname: '127.0.0.1', silent: true });
  await server.ready();
  try {
    // (FastResponse's instanceof says yes to any Response: its constructor tells them apart.)
    const built = await toFetchHandler(app, { validate: false, lifespan: 'off', responseClass: FastResponse }).fetch(new Request('http://x/hi'));
    expect(built.constructor).toBe(FastResponse);
    await exercise(server.url!.replace(/\/$/, ''));
  } finally {
    await server.close(true);
  }
});

test('without responseClass, responses are built with the global Response of the moment (@hono/node-server swaps in its own)', async () => {
  const handler = toFetchHandler(app, { validate: false, lifespan: 'off' });
  const original = globalThis.Response;
  class Swapped extends original {}
  globalThis.Response = Swapped;
  try {
    const response = await handler.fetch(new Request('http://x/hi'));
    expect(response.constructor).toBe(Swapped);
    expect(await response.text()).toBe('hello GET /hi');
  } finally {
    globalThis.Response = original;
  }
});
