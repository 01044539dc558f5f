/**
 * ns per call of the generated guards against a hand-written guard for the same shape and
 * against ajv compiling the same schema at run time, for every message and scope type the
 * generated index knows (a type without a hand-written guard here fails the run). Ratios are to
 * the hand-written guard.
 *
 *   npm run bench:guards
 */
import ajvModule from 'ajv';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AJV_OPTIONS, addTsgiVocabulary } from '../../codegen/keywords.js';
import { packageRoot } from '../../codegen/package-root.js';
import { messageGuards, scopeGuards } from '../../generated/index.js';
import { machineLine, printTable, sideBySide, type Case } from '../harness.js';

const enc = new TextEncoder();

const start = {
  type: 'http.response.start',
  status: 200,
  headers: [
    [enc.encode('content-type'), enc.encode('text/plain; charset=utf-8')],
    [enc.encode('content-length'), enc.encode('13')],
  ],
};
const body = { type: 'http.response.body', body: enc.encode('Hello, world!'), more_body: false };
const scope = {
  type: 'http',
  asgi: { version: '3.0', spec_version: '2.5' },
  http_version: '1.1',
  method: 'GET',
  scheme: 'http',
  path: '/items/42',
  raw_path: enc.encode('/items/42'),
  query_string: enc.encode('q=1'),
  root_path: '',
  headers: [
    [enc.encode('host'), enc.encode('127.0.0.1:8000')],
    [enc.encode('user-agent'), enc.encode('bench/1.0')],
    [enc.encode('accept'), enc.encode('*/*')],
    [enc.encode('accept-encoding'), enc.encode('gzip, deflate')],
    [enc.encode('connection'), enc.encode('keep-alive')],
  ],
  client: ['127.0.0.1', 51234],
  server: ['127.0.0.1', 8000],
  state: {},
  extensions: {},
};

const headers = [[enc.encode('x-checksum'), enc.encode('abc')]];
/** One well-formed value of each type. */
const samples: Record<string, unknown> = {
  'http': scope,
  'lifespan': { type: 'lifespan', asgi: { version: '3.0', spec_version: '2.0' }, state: {} },
  'http.request': { type: 'http.request', body: enc.encode('{"a":1}'), more_body: false },
  'http.disconnect': { type: 'http.disconnect' },
  'http.response.start': start,
  'http.response.body': body,
  'http.response.debug': { type: 'http.response.debug', info: { template: 'index.html', context: {} } },
  'http.response.early_hint': { type: 'http.response.early_hint', links: [enc.encode('</style.css>; rel=preload; as=style')] },
  'http.response.pathsend': { type: 'http.response.pathsend', path: '/srv/www/index.html' },
  'http.response.push': { type: 'http.response.push', path: '/style.css', headers },
  'http.response.trailers': { type: 'http.response.trailers', headers, more_trailers: false },
  'http.response.zerocopysend': { type: 'http.response.zerocopysend', file: 7, offset: 0, count: 4096, more_body: false },
  'lifespan.startup': { type: 'lifespan.startup' },
  'lifespan.startup.complete': { type: 'lifespan.startup.complete' },
  'lifespan.startup.failed': { type: 'lifespan.startup.failed', message: 'no database' },
  'lifespan.shutdown': { type: 'lifespan.shutdown' },
  'lifespan.shutdown.complete': { type: 'lifespan.shutdown.complete' },
  'lifespan.shutdown.failed': { type: 'lifespan.shutdown.failed', message: 'timed out' },
  'websocket': {
    type: 'websocket',
    asgi: { version: '3.0', spec_version: '2.5' },
    http_version: '1.1',
    scheme: 'ws',
    path: '/chat',
    raw_path: enc.encode('/chat'),
    query_string: enc.encode(''),
    root_path: '',
    headers: scope.headers,
    client: ['127.0.0.1', 51234],
    server: ['127.0.0.1', 8000],
    subprotocols: ['chat'],
    state: {},
    extensions: { 'websocket.http.response': {} },
  },
  'websocket.connect': { type: 'websocket.connect' },
  'websocket.accept': { type: 'websocket.accept', subprotocol: 'chat', headers },
  'websocket.receive': { type: 'websocket.receive', text: 'Hello, world!' },
  'websocket.send': { type: 'websocket.send', bytes: enc.encode('Hello, world!') },
  'websocket.disconnect': { type: 'websocket.disconnect', code: 1000, reason: '' },
  'websocket.close': { type: 'websocket.close', code: 1000 },
  'websocket.http.response.start': { type: 'websocket.http.response.start', status: 403, headers },
  'websocket.http.response.body': { type: 'websocket.http.response.body', body: enc.encode('Forbidden'), more_body: false },
};

// Hand-written guards: what a careful person would write for exactly these shapes.
type R = Record<string, unknown>;
const isObj = (v: unknown): v is R => typeof v === 'object' && v !== null && !Array.isArray(v);
function handHeaders(h: unknown): boolean {
  if (!Array.isArray(h)) return false;
  for (let i = 0; i < h.length; i++) {
    const pair: unknown = h[i];
    if (!Array.isArray(pair) || pair.length !== 2 || !(pair[0] instanceof Uint8Array) || !(pair[1] instanceof Uint8Array)) return false;
  }
  return true;
}
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Z-]+$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const ABSOLUTE = /^(\/|[A-Za-z]:[\\/])/;
const isBool = (v: unknown) => v === undefined || typeof v === 'boolean';
const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
const only = (type: string) => (v: unknown): boolean => isObj(v) && v.type === type;
const withMessage = (type: string) => (v: unknown): boolean => isObj(v) && v.type === type && (v.message === undefined || typeof v.message === 'string');
/** Exactly one of `bytes` (a byte string) and `text` (a string); the other absent or null. */
function textOrBytes(v: R): boolean {
  const b = v.bytes;
  const t = v.text;
  if (b instanceof Uint8Array) return t === undefined || t === null;
  return typeof t === 'string' && (b === undefined || b === null);
}
const withCode = (type: string) => (v: unknown): boolean => isObj(v) && v.type === type && (v.code === undefined || Number.isInteger(v.code)) && (v.reason === undefined || typeof v.reason === 'string');
const hand: Record<string, (v: unknown) => boolean> = {
  'websocket'(v) {
    if (!isObj(v) || v.type !== 'websocket') return false;
    const a = v.asgi;
    if (!isObj(a) || a.version !== '3.0' || (a.spec_version !== undefined && typeof a.spec_version !== 'string')) return false;
    if (v.http_version !== undefined && v.http_version !== '1.1' && v.http_version !== '2') return false;
    if (v.scheme !== undefined && (typeof v.scheme !== 'string' || !SCHEME.test(v.scheme))) return false;
    if (typeof v.path !== 'string') return false;
    if (v.raw_path !== undefined && v.raw_path !== null && !(v.raw_path instanceof Uint8Array)) return false;
    if (v.query_string !== undefined && !(v.query_string instanceof Uint8Array)) return false;
    if (v.root_path !== undefined && typeof v.root_path !== 'string') return false;
    if (!handHeaders(v.headers)) return false;
    const c = v.client;
    if (c !== undefined && c !== null && !(Array.isArray(c) && c.length === 2 && typeof c[0] === 'string' && Number.isInteger(c[1]))) return false;
    const s = v.server;
    if (s !== undefined && s !== null && !(Array.isArray(s) && s.length === 2 && typeof s[0] === 'string' && (s[1] === null || Number.isInteger(s[1])))) return false;
    const p = v.subprotocols;
    if (p !== undefined) {
      if (!Array.isArray(p)) return false;
      for (let i = 0; i < p.length; i++) if (typeof p[i] !== 'string') return false;
    }
    if (v.state !== undefined && !isObj(v.state)) return false;
    if (v.extensions !== undefined) {
      if (!isObj(v.extensions)) return false;
      for (const k in v.extensions) if (!isObj(v.extensions[k])) return false;
    }
    return true;
  },
  'websocket.connect': only('websocket.connect'),
  'websocket.accept'(v) {
    return isObj(v) && v.type === 'websocket.accept' && (v.subprotocol === undefined || v.subprotocol === null || typeof v.subprotocol === 'string') &&
      (v.headers === undefined || handHeaders(v.headers));
  },
  'websocket.receive'(v) {
    return isObj(v) && v.type === 'websocket.receive' && textOrBytes(v);
  },
  'websocket.send'(v) {
    return isObj(v) && v.type === 'websocket.send' && textOrBytes(v);
  },
  'websocket.disconnect': withCode('websocket.disconnect'),
  'websocket.close': withCode('websocket.close'),
  'websocket.http.response.start'(v) {
    return isObj(v) && v.type === 'websocket.http.response.start' && Number.isInteger(v.status) && (v.status as number) >= 100 && (v.status as number) <= 599 &&
      (v.headers === undefined || handHeaders(v.headers));
  },
  'websocket.http.response.body'(v) {
    return isObj(v) && v.type === 'websocket.http.response.body' && (v.body === undefined || v.body instanceof Uint8Array) && isBool(v.more_body);
  },
  'http.request'(v) {
    return isObj(v) && v.type === 'http.request' && (v.body === undefined || v.body instanceof Uint8Array) && isBool(v.more_body);
  },
  'http.disconnect': only('http.disconnect'),
  'http.response.debug'(v) {
    return isObj(v) && v.type === 'http.response.debug' && isObj(v.info);
  },
  'http.response.early_hint'(v) {
    if (!isObj(v) || v.type !== 'http.response.early_hint' || !Array.isArray(v.links)) return false;
    for (let i = 0; i < v.links.length; i++) if (!(v.links[i] instanceof Uint8Array)) return false;
    return true;
  },
  'http.response.pathsend'(v) {
    return isObj(v) && v.type === 'http.response.pathsend' && typeof v.path === 'string' && ABSOLUTE.test(v.path);
  },
  'http.response.push'(v) {
    return isObj(v) && v.type === 'http.response.push' && typeof v.path === 'string' && handHeaders(v.headers);
  },
  'http.response.trailers'(v) {
    return isObj(v) && v.type === 'http.response.trailers' && handHeaders(v.headers) && isBool(v.more_trailers);
  },
  'http.response.zerocopysend'(v) {
    return isObj(v) && v.type === 'http.response.zerocopysend' && isCount(v.file) && (v.offset === undefined || isCount(v.offset)) &&
      (v.count === undefined || isCount(v.count)) && isBool(v.more_body);
  },
  'lifespan'(v) {
    if (!isObj(v) || v.type !== 'lifespan') return false;
    const a = v.asgi;
    return isObj(a) && a.version === '3.0' && (a.spec_version === undefined || typeof a.spec_version === 'string') && (v.state === undefined || isObj(v.state));
  },
  'lifespan.startup': only('lifespan.startup'),
  'lifespan.startup.complete': only('lifespan.startup.complete'),
  'lifespan.startup.failed': withMessage('lifespan.startup.failed'),
  'lifespan.shutdown': only('lifespan.shutdown'),
  'lifespan.shutdown.complete': only('lifespan.shutdown.complete'),
  'lifespan.shutdown.failed': withMessage('lifespan.shutdown.failed'),
  'http.response.start'(v) {
    return isObj(v) && v.type === 'http.response.start' && Number.isInteger(v.status) && (v.status as number) >= 100 && (v.status as number) <= 599 &&
      (v.headers === undefined || handHeaders(v.headers)) && (v.trailers === undefined || typeof v.trailers === 'boolean');
  },
  'http.response.body'(v) {
    return isObj(v) && v.type === 'http.response.body' && (v.body === undefined || v.body instanceof Uint8Array) &&
      (v.more_body === undefined || typeof v.more_body === 'boolean');
  },
  'http'(v) {
    if (!isObj(v) || v.type !== 'http') return false;
    const a = v.asgi;
    if (!isObj(a) || a.version !== '3.0' || (a.spec_version !== undefined && typeof a.spec_version !== 'string')) return false;
    if (v.http_version !== '1.1' && v.http_version !== '2' && v.http_version !== '1.0') return false;
    if (typeof v.method !== 'string' || !METHOD.test(v.method)) return false;
    if (v.scheme !== undefined && (typeof v.scheme !== 'string' || !SCHEME.test(v.scheme))) return false;
    if (typeof v.path !== 'string') return false;
    if (v.raw_path !== undefined && v.raw_path !== null && !(v.raw_path instanceof Uint8Array)) return false;
    if (!(v.query_string instanceof Uint8Array)) return false;
    if (v.root_path !== undefined && typeof v.root_path !== 'string') return false;
    if (!handHeaders(v.headers)) return false;
    const c = v.client;
    if (c !== undefined && c !== null && !(Array.isArray(c) && c.length === 2 && typeof c[0] === 'string' && Number.isInteger(c[1]))) return false;
    const s = v.server;
    if (s !== undefined && s !== null && !(Array.isArray(s) && s.length === 2 && typeof s[0] === 'string' && (s[1] === null || Number.isInteger(s[1])))) return false;
    if (v.state !== undefined && !isObj(v.state)) return false;
    if (v.extensions !== undefined) {
      if (!isObj(v.extensions)) return false;
      for (const k in v.extensions) if (!isObj(v.extensions[k])) return false;
    }
    return true;
  },
};

// ajv compiling the very same schemas now, in this process: the usual way to use ajv.
const ajv = addTsgiVocabulary(new ajvModule.default({ ...AJV_OPTIONS }));
const schemaRoot = join(packageRoot(), 'schema');
for (const dir of readdirSync(schemaRoot)) {
  for (const f of readdirSync(join(schemaRoot, dir))) ajv.addSchema(JSON.parse(readFileSync(join(schemaRoot, dir, f), 'utf8')) as object);
}
/** The schema whose `type` is `const` this: the runtime-compiled counterpart of each guard. */
const runtime = new Map<string, (v: unknown) => boolean>();
for (const id of Object.keys((ajv as unknown as { schemas: Record<string, unknown> }).schemas)) {
  const validate = ajv.getSchema(id);
  const type = (validate?.schema as { properties?: { type?: { const?: unknown } } } | undefined)?.properties?.type?.const;
  if (validate !== undefined && typeof type === 'string') runtime.set(type, validate as (v: unknown) => boolean);
}

function loop(guard: (v: unknown) => boolean, value: unknown) {
  return (n: number) => {
    let ok = 0;
    for (let i = 0; i < n; i++) if (guard(value)) ok++;
    if (ok !== n) throw new Error('a guard rejected the benchmark value');
    return ok;
  };
}

const N = Number(process.env.BENCH_N ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const guards = [...scopeGuards.values(), ...messageGuards.values()];
const missing = guards.filter((g) => hand[g.type] === undefined || samples[g.type] === undefined || !runtime.has(g.type)).map((g) => g.type);
if (missing.length > 0) throw new Error(`bench/guards has no hand-written guard, sample or schema for: ${missing.join(', ')}`);
console.log(`bench/guards: ${machineLine()}, ${N} calls per sample, median of ${ROUNDS} interleaved rounds`);
const worst: { name: string; ratio: number }[] = [];
for (const guard of guards) {
  const value = samples[guard.type];
  const cases: Case[] = [
    { name: 'hand-written', run: loop(hand[guard.type]!, value) },
    { name: 'generated', run: loop(guard.is, value) },
    { name: 'ajv compiled at run time', run: loop(runtime.get(guard.type)!, value) },
  ];
  const results = await sideBySide(cases, { n: N, rounds: ROUNDS });
  printTable(guard.type, results, 'hand-written');
  worst.push({ name: guard.type, ratio: results[1]!.nsPerOp / results[0]!.nsPerOp });
}
worst.sort((a, b) => b.ratio - a.ratio);
console.log(`\ngenerated guards against hand-written (target: every one at most 1.2x)`);
for (const w of worst) console.log(`  ${w.name.padEnd(30)} ${w.ratio.toFixed(2)}x`);
console.log(`slowest generated guard: ${worst[0]!.name} at ${worst[0]!.ratio.toFixed(2)}x hand-written`);
