/**
 * One in-process request through the app alone, through pure ASGI wrappers, and through
 * baseHTTPMiddleware whose dispatch sets a header; the same ten deep; a request whose body the
 * middleware reads and replays to the app; then 64 MiB streamed through each. Last, the
 * microtask turns one request takes in each case: exact, whatever the load on the machine, and
 * most of what separates the timings.
 *
 *   npm run bench:middleware
 */
import {
  baseHTTPMiddleware,
  type ASGIApp,
  type ASGIReceiveEvent,
  type ASGISendEvent,
  type HTTPResponseBodyEvent,
  type HTTPResponseStartEvent,
  type Scope,
  type Send,
} from '../../src/index.js';
import { machineLine, printTable, sideBySide, type Result } from '../harness.js';

const enc = new TextEncoder();
const scope = {
  type: 'http', asgi: { version: '3.0', spec_version: '2.5' }, http_version: '1.1', method: 'GET', scheme: 'http',
  path: '/', raw_path: enc.encode('/'), query_string: new Uint8Array(), root_path: '',
  headers: [[enc.encode('host'), enc.encode('127.0.0.1:8000')]], client: ['127.0.0.1', 50000], server: ['127.0.0.1', 8000],
} as Scope;
const request: ASGIReceiveEvent = { type: 'http.request', body: new Uint8Array(), more_body: false };
const receive = () => Promise.resolve(request);
const discard: Send = () => Promise.resolve();

const start: HTTPResponseStartEvent = { type: 'http.response.start', status: 200, headers: [[enc.encode('content-type'), enc.encode('text/plain')]] };
const hello: HTTPResponseBodyEvent = { type: 'http.response.body', body: enc.encode('Hello, world!') };
const small: ASGIApp = async (_s, _r, send) => {
  await send(start);
  await send(hello);
};

const CHUNK = 64 * 1024;
const STREAM_BYTES = 64 * 1024 * 1024;
const chunk = new Uint8Array(CHUNK);
const streaming: ASGIApp = async (_s, _r, send) => {
  await send(start);
  for (let sent = CHUNK; sent <= STREAM_BYTES; sent += CHUNK) await send({ type: 'http.response.body', body: chunk, more_body: sent < STREAM_BYTES });
};

const HEADER: [Uint8Array, Uint8Array] = [enc.encode('x-middleware'), enc.encode('1')];
const passThrough = (app: ASGIApp): ASGIApp => (s, r, send) => app(s, r, send);
const pureSetsHeader = (app: ASGIApp): ASGIApp => (s, r, send) => app(s, r, (message) => {
  if (message.type === 'http.response.start') return send({ ...message, headers: [...(message.headers ?? []), HEADER] });
  return send(message);
});
const baseSetsHeader = (app: ASGIApp): ASGIApp => baseHTTPMiddleware(app, async (req, callNext) => {
  const response = await callNext(req);
  response.headers.set('x-middleware', '1');
  return response;
});

/** Reads the whole request body from `receive`, as a pure ASGI wrapper would. */
async function readBody(receive: () => Promise<ASGIReceiveEvent>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const message = await receive();
    if (message.type !== 'http.request') return new Uint8Array(0);
    if (message.body !== undefined && message.body.length > 0) chunks.push(message.body);
    if (message.more_body !== true) break;
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return body;
}
const pureReadsBody = (app: ASGIApp): ASGIApp => async (s, r, send) => {
  const body = await readBody(r);
  let replayed = false;
  return app(s, () => {
    if (replayed) return r();
    replayed = true;
    return Promise.resolve({ type: 'http.request', body, more_body: false });
  }, send);
};
const baseReadsBody = (app: ASGIApp): ASGIApp => baseHTTPMiddleware(app, async (req, callNext) => {
  await req.body();
  return callNext(req);
});
/**
 * The floor under any callNext middleware, for scale: an async dispatch that awaits a promise the
 * app's start settles, the app started a turn later (so that AsyncLocalStorage stays apart), the
 * start sent once dispatch has returned, the first body chunk held meanwhile. No Request, no
 * Response, no header map: only the promises and turns that callNext's contract implies.
 */
const bareCallNextShape = (app: ASGIApp): ASGIApp => async (s, r, send) => {
  let resolveStart!: (start: HTTPResponseStartEvent) => void;
  let start: HTTPResponseStartEvent | undefined;
  let held: ((value: undefined) => void) | undefined;
  let heldMessage: ASGISendEvent | undefined;
  let passing = false;
  const started = new Promise<HTTPResponseStartEvent>((resolve) => (resolveStart = resolve));
  const downstreamSend: Send = (message) => {
    if (passing) return send(message);
    if (start === undefined) {
      start = message as HTTPResponseStartEvent;
      resolveStart(start);
      return Promise.resolve();
    }
    heldMessage = message;
    return new Promise((resolve) => (held = resolve));
  };
  let running: Promise<void> | undefined;
  const dispatch = async (callNext: () => Promise<HTTPResponseStartEvent>) => {
    const response = await callNext();
    return { ...response, headers: [...(response.headers ?? []), HEADER] };
  };
  const response = await dispatch(() => {
    void Promise.resolve().then(() => (running = app(s, r, downstreamSend)));
    return started;
  });
  await send(response);
  passing = true;
  if (heldMessage !== undefined) {
    await send(heldMessage);
    held!(undefined);
  }
  await running;
};

const stack = (wrap: (app: ASGIApp) => ASGIApp, depth: number) => (app: ASGIApp): ASGIApp => {
  for (let i = 0; i < depth; i++) app = wrap(app);
  return app;
};

const variants: [string, (app: ASGIApp) => ASGIApp][] = [
  ['app alone', (app) => app],
  ['pure ASGI pass-through', passThrough],
  ['pure ASGI, sets a header', pureSetsHeader],
  ['baseHTTPMiddleware, sets a header', baseSetsHeader],
  ['floor: the bare callNext shape', bareCallNextShape],
];

const requests = (app: ASGIApp) => async (n: number) => {
  for (let i = 0; i < n; i++) await app(scope, receive, discard);
  return n;
};

const N = Number(process.env.BENCH_N ?? 100_000);
console.log(`bench/middleware: ${machineLine()}, median of 7 interleaved rounds`);
const perRequest = await sideBySide(variants.map(([name, wrap]) => ({ name, run: requests(wrap(small)) })), { n: N });
printTable(`one request, 13-byte body (${N} requests per sample)`, perRequest, 'app alone', 'ns/request');

const stacked: [string, (app: ASGIApp) => ASGIApp][] = [
  ['app alone', (app) => app],
  ['ten pure ASGI wrappers, each sets a header', stack(pureSetsHeader, 10)],
  ['ten baseHTTPMiddleware, each sets a header', stack(baseSetsHeader, 10)],
];
const perStacked = await sideBySide(stacked.map(([name, wrap]) => ({ name, run: requests(wrap(small)) })), { n: Math.ceil(N / 5) });
printTable(`ten stacked, one request (${Math.ceil(N / 5)} requests per sample)`, perStacked, 'app alone', 'ns/request');

// A POST whose 64-byte body the middleware reads whole, then the app reads again.
const posted: ASGIReceiveEvent = { type: 'http.request', body: new Uint8Array(64).fill(0x61), more_body: false };
const receivePosted = () => Promise.resolve(posted);
const readsBodyApp: ASGIApp = async (_s, r, send) => {
  const message = await r();
  if (message.type !== 'http.request' || message.body?.length !== 64) throw new Error('the app did not get the body');
  await send(start);
  await send(hello);
};
const bodyVariants: [string, (app: ASGIApp) => ASGIApp][] = [
  ['app alone', (app) => app],
  ['pure ASGI, reads the body and replays it', pureReadsBody],
  ['baseHTTPMiddleware, reads the body', baseReadsBody],
];
const postRequests = (app: ASGIApp) => async (n: number) => {
  for (let i = 0; i < n; i++) await app(scope, receivePosted, discard);
  return n;
};
const perBody = await sideBySide(bodyVariants.map(([name, wrap]) => ({ name, run: postRequests(wrap(readsBodyApp)) })), { n: N });
printTable(`one POST, 64-byte body read by the middleware and by the app (${N} requests per sample)`, perBody, 'app alone', 'ns/request');

const STREAMS = Number(process.env.BENCH_STREAMS ?? 4);
const perStream = await sideBySide(variants.map(([name, wrap]) => ({ name, run: requests(wrap(streaming)) })), { n: STREAMS, rounds: 5 });
const throughput: Result[] = perStream.map((r) => ({ name: r.name, nsPerOp: r.nsPerOp / (STREAM_BYTES / 1024 / 1024) }));
printTable('64 MiB streamed in 64 KiB chunks', throughput, 'app alone', 'ns/MiB');
// In process nothing is copied (each chunk is handed on by reference), so bytes per second
// here measure the cost per chunk, which is printed beside it.
console.log('  (in process, chunks are passed by reference: this is the cost per chunk)');
for (const r of throughput) console.log(`  ${r.name.padEnd(34)} ${(1e9 / r.nsPerOp / 1024).toFixed(0).padStart(5)} GiB/s, ${(r.nsPerOp / 16).toFixed(0).padStart(4)} ns per 64 KiB chunk`);

const get = (results: Result[], name: string) => results.find((r) => r.name === name)!.nsPerOp;
const [alone, pure, pureHeader, base] = [get(perRequest, 'app alone'), get(perRequest, 'pure ASGI pass-through'), get(perRequest, 'pure ASGI, sets a header'), get(perRequest, 'baseHTTPMiddleware, sets a header')];
const tenPure = get(perStacked, 'ten pure ASGI wrappers, each sets a header');
const tenBase = get(perStacked, 'ten baseHTTPMiddleware, each sets a header');
const bodyPure = get(perBody, 'pure ASGI, reads the body and replays it');
const bodyBase = get(perBody, 'baseHTTPMiddleware, reads the body');
console.log('\nratios (same run; target: at most 2x, stretch 1.5x)');
console.log(`  sets a header:     baseHTTPMiddleware ${(base / pureHeader).toFixed(2)}x the pure wrapper (${(base / pure).toFixed(2)}x the pure pass-through)`);
console.log(`                     the bare callNext shape alone: ${(get(perRequest, 'floor: the bare callNext shape') / pureHeader).toFixed(2)}x the pure wrapper`);
console.log(`  ten stacked:       baseHTTPMiddleware ${(tenBase / tenPure).toFixed(2)}x the pure wrappers`);
console.log(`  reads the body:    baseHTTPMiddleware ${(bodyBase / bodyPure).toFixed(2)}x the pure wrapper`);
console.log(`added over the app alone: baseHTTPMiddleware ${(base - alone).toFixed(0)} ns, pure header-setting wrapper ${(pureHeader - alone).toFixed(0)} ns`);

/** How many microtask turns pass while one request runs: a loop that counts its own turns meanwhile. */
async function turnsOf(app: ASGIApp, receiveFrom: () => Promise<ASGIReceiveEvent>): Promise<number> {
  let turns = 0;
  let ticking = true;
  void (async () => {
    while (ticking && turns < 10_000) {
      await null;
      turns += 1;
    }
  })();
  await app(scope, receiveFrom, discard);
  ticking = false;
  return turns;
}
const turnCases: [string, ASGIApp, () => Promise<ASGIReceiveEvent>][] = [
  ...variants.map(([name, wrap]): [string, ASGIApp, () => Promise<ASGIReceiveEvent>] => [name, wrap(small), receive]),
  ...stacked.slice(1).map(([name, wrap]): [string, ASGIApp, () => Promise<ASGIReceiveEvent>] => [name, wrap(small), receive]),
  ...bodyVariants.map(([name, wrap]): [string, ASGIApp, () => Promise<ASGIReceiveEvent>] => [`POST: ${name}`, wrap(readsBodyApp), receivePosted]),
];
console.log('\nmicrotask turns per request (exact; the awaiting caller included)');
for (const [name, app, receiveFrom] of turnCases) console.log(`  ${name.padEnd(48)} ${String(await turnsOf(app, receiveFrom)).padStart(3)}`);
