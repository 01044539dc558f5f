/**
 * One in-process request through the app alone, through pure ASGI wrappers, and through
 * baseHTTPMiddleware whose dispatch sets a header; then 64 MiB streamed through each.
 *
 *   npm run bench:middleware
 */
import {
  baseHTTPMiddleware,
  type ASGIApp,
  type ASGIReceiveEvent,
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

const variants: [string, (app: ASGIApp) => ASGIApp][] = [
  ['app alone', (app) => app],
  ['pure ASGI pass-through', passThrough],
  ['pure ASGI, sets a header', pureSetsHeader],
  ['baseHTTPMiddleware, sets a header', baseSetsHeader],
];

const requests = (app: ASGIApp) => async (n: number) => {
  for (let i = 0; i < n; i++) await app(scope, receive, discard);
  return n;
};

const N = Number(process.env.BENCH_N ?? 100_000);
console.log(`bench/middleware: ${machineLine()}, median of 7 interleaved rounds`);
const perRequest = await sideBySide(variants.map(([name, wrap]) => ({ name, run: requests(wrap(small)) })), { n: N });
printTable(`one request, 13-byte body (${N} requests per sample)`, perRequest, 'app alone', 'ns/request');

const STREAMS = Number(process.env.BENCH_STREAMS ?? 4);
const perStream = await sideBySide(variants.map(([name, wrap]) => ({ name, run: requests(wrap(streaming)) })), { n: STREAMS, rounds: 5 });
const throughput: Result[] = perStream.map((r) => ({ name: r.name, nsPerOp: r.nsPerOp / (STREAM_BYTES / 1024 / 1024) }));
printTable('64 MiB streamed in 64 KiB chunks', throughput, 'app alone', 'ns/MiB');
// In process nothing is copied (each chunk is handed on by reference), so bytes per second
// here measure the cost per chunk, which is printed beside it.
console.log('  (in process, chunks are passed by reference: this is the cost per chunk)');
for (const r of throughput) console.log(`  ${r.name.padEnd(34)} ${(1e9 / r.nsPerOp / 1024).toFixed(0).padStart(5)} GiB/s, ${(r.nsPerOp / 16).toFixed(0).padStart(4)} ns per 64 KiB chunk`);

const get = (name: string) => perRequest.find((r) => r.name === name)!.nsPerOp;
const [alone, pure, pureHeader, base] = [get('app alone'), get('pure ASGI pass-through'), get('pure ASGI, sets a header'), get('baseHTTPMiddleware, sets a header')];
console.log(`\nbaseHTTPMiddleware per request: ${(base / pure).toFixed(2)}x the pure pass-through, ${(base / pureHeader).toFixed(2)}x the pure header-setting wrapper (target: at most 2x)`);
console.log(`added over the app alone: baseHTTPMiddleware ${(base - alone).toFixed(0)} ns, pure header-setting wrapper ${(pureHeader - alone).toFixed(0)} ns`);
