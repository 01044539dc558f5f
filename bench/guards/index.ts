/**
 * ns per call of the generated guards against a hand-written guard for the same shape and
 * against ajv compiling the same schema at run time. Ratios are to the hand-written guard.
 *
 *   npm run bench:guards
 */
import ajvModule from 'ajv';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AJV_OPTIONS, addTsgiVocabulary } from '../../codegen/keywords.js';
import { packageRoot } from '../../codegen/package-root.js';
import { isHTTPResponseBodyEvent, isHTTPResponseStartEvent, isHTTPScope } from '../../generated/index.js';
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
const hand = {
  start(v: unknown): boolean {
    return isObj(v) && v.type === 'http.response.start' && Number.isInteger(v.status) && (v.status as number) >= 100 && (v.status as number) <= 599 &&
      (v.headers === undefined || handHeaders(v.headers)) && (v.trailers === undefined || typeof v.trailers === 'boolean');
  },
  body(v: unknown): boolean {
    return isObj(v) && v.type === 'http.response.body' && (v.body === undefined || v.body instanceof Uint8Array) &&
      (v.more_body === undefined || typeof v.more_body === 'boolean');
  },
  scope(v: unknown): boolean {
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
const runtime = {
  start: ajv.getSchema('tsgi://schema/http/response-start.json')!,
  body: ajv.getSchema('tsgi://schema/http/response-body.json')!,
  scope: ajv.getSchema('tsgi://schema/http/scope.json')!,
};

function loop(guard: (v: unknown) => boolean, value: unknown) {
  return (n: number) => {
    let ok = 0;
    for (let i = 0; i < n; i++) if (guard(value)) ok++;
    if (ok !== n) throw new Error('a guard rejected the benchmark value');
    return ok;
  };
}

const N = Number(process.env.BENCH_N ?? 2_000_000);
console.log(`bench/guards: ${machineLine()}, ${N} calls per sample, median of 7 interleaved rounds`);
const worst: { name: string; ratio: number }[] = [];
for (const [label, value, generated] of [
  ['http.response.start', start, isHTTPResponseStartEvent],
  ['http.response.body', body, isHTTPResponseBodyEvent],
  ['HTTP scope', scope, isHTTPScope],
] as const) {
  const key = label === 'HTTP scope' ? 'scope' : label === 'http.response.body' ? 'body' : 'start';
  const cases: Case[] = [
    { name: 'hand-written', run: loop(hand[key], value) },
    { name: 'generated (ajv standalone)', run: loop(generated, value) },
    { name: 'ajv compiled at run time', run: loop(runtime[key] as (v: unknown) => boolean, value) },
  ];
  const results = await sideBySide(cases, { n: N });
  printTable(label, results, 'hand-written');
  worst.push({ name: label, ratio: results[1]!.nsPerOp / results[0]!.nsPerOp });
}
const slowest = worst.reduce((a, b) => (b.ratio > a.ratio ? b : a));
console.log(`\nslowest generated guard: ${slowest.name} at ${slowest.ratio.toFixed(2)}x hand-written (target: at most 1.5x)`);
