/**
 * tsgi against the stacks users would pick instead, over loopback, side by side:
 * requests per second and p99 for a 13-byte text response, and MB/s for 1 MiB streamed in 64 KiB
 * chunks, each beside the server's own CPU time per request; the median of interleaved rounds,
 * and as a ratio to plain node:http in the same round, with the spread across rounds.
 * Writes bench/peers/RESULTS.md and bench/peers/ratios.svg.
 *
 *   npm run bench:peers      (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS to change)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, pinning, pinSelf, start, table, type Figure, type Running, type Scenario, type Target } from '../load.js';
import { barChart, type Bar } from './chart.js';

// This file runs compiled, from dist/bench/peers; its sources and servers live in bench/peers.
const peersDir = fileURLToPath(new URL('../../../bench/peers/', import.meta.url));
const tsgiServers = fileURLToPath(new URL('../http/servers.js', import.meta.url));

if (!existsSync(join(peersDir, 'node_modules'))) {
  console.log('bench/peers: installing the peers (npm ci in bench/peers)');
  const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: peersDir, stdio: 'inherit' });
  if (install.status !== 0) throw new Error('npm ci in bench/peers failed');
}

function version(pkg: string): string {
  return (JSON.parse(readFileSync(join(peersDir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

// Debian's python3-starlette and python3-uvicorn install for /usr/bin/python3.
const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import starlette, uvicorn'], { stdio: 'ignore' }).status === 0);
const pythonVersions = python
  ? spawnSync(python, ['-c', 'import sys, starlette, uvicorn; print(f"Python {sys.version.split()[0]}, Starlette {starlette.__version__}, uvicorn {uvicorn.__version__}")'], { encoding: 'utf8' }).stdout.trim()
  : undefined;

const node = (name: string, script: string, env: Record<string, string> = {}): Target => ({ name, command: process.execPath, args: [script], env, cwd: peersDir });
const tsgi = (name: string, variant: string) => node(name, tsgiServers, { VARIANT: variant });
const peer = (name: string, file: string) => node(name, join(peersDir, 'servers', file));
const starlette = (name: string, variant: string): Target => ({ name, command: python!, args: [join(peersDir, 'servers', 'starlette_app.py')], env: { VARIANT: variant }, cwd: peersDir });

const groups = new Map<string, Bar['group']>();
const targets: Target[] = [];
const add = (group: Bar['group'], ...ts: Target[]) => {
  for (const t of ts) {
    targets.push(t);
    groups.set(t.name, group);
  }
};
add('limit', tsgi('node:http', 'node'));
add('tsgi',
  tsgi('tsgi serve', 'tsgi'),
  tsgi('tsgi serve + validation', 'tsgi-validate'),
  tsgi('tsgi + 1 baseHTTPMiddleware', 'tsgi-base1'),
  tsgi('tsgi + 10 baseHTTPMiddleware', 'tsgi-base10'),
  tsgi('tsgi + 1 pure ASGI middleware', 'tsgi-pure1'),
  tsgi('tsgi + 10 pure ASGI middleware', 'tsgi-pure10'));
add('node peer',
  peer(`fastify ${version('fastify')}, onSend hook`, 'fastify.mjs'),
  peer(`hono ${version('hono')} (node-server ${version('@hono/node-server')}), 1 middleware`, 'hono.mjs'),
  peer(`koa ${version('koa')}, 1 middleware`, 'koa.mjs'),
  peer(`express ${version('express')}, 1 middleware`, 'express.mjs'));
if (python) {
  add('starlette',
    starlette('Starlette/uvicorn', 'none'),
    starlette('Starlette/uvicorn + 1 BaseHTTPMiddleware', 'base1'),
    starlette('Starlette/uvicorn + 10 BaseHTTPMiddleware', 'base10'),
    starlette('Starlette/uvicorn + 1 pure ASGI middleware', 'pure1'),
    starlette('Starlette/uvicorn + 10 pure ASGI middleware', 'pure10'));
}

const scenarios: Scenario[] = [
  { name: 'hello', path: '/', measure: 'requests' },
  { name: 'stream', path: '/stream', measure: 'throughput' },
];
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);

pinSelf();
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; node ${process.version}`;
console.log(`bench/peers: ${machine}; ${pinning()}`);
if (!python) {
  console.log("Starlette rows skipped: Debian's python3-starlette and python3-uvicorn are not installed (apt-get install python3-starlette python3-uvicorn)");
}
console.log(`${targets.length} servers, ${rounds} interleaved rounds of ${seconds} s each per scenario, ${connections} connections\n`);

const running: Running[] = [];
const started = Date.now();
let figures: Figure[];
try {
  for (const t of targets) running.push(await start(t));
  // Every server must answer the same thing before it is timed.
  for (const r of running) {
    const response = await fetch(`${r.url}/`);
    const body = await response.text();
    if (response.status !== 200 || body !== 'Hello, world!') throw new Error(`${r.target.name} answered ${response.status} ${JSON.stringify(body)}`);
    const middleware = !/^(node:http|tsgi serve|tsgi serve \+ validation|Starlette\/uvicorn)$/.test(r.target.name);
    // Stacked pure middlewares each append the header; fetch joins the values.
    if (middleware && response.headers.get('x-middleware')?.split(', ')[0] !== '1') throw new Error(`${r.target.name} did not set x-middleware`);
  }
  figures = await compare(running, scenarios, { rounds, seconds, warmupSeconds: 1, connections, baseline: 'node:http', onProgress: (l) => console.log(`  ${l}`) });
} finally {
  await Promise.all(running.map((r) => r.stop()));
}
const minutes = ((Date.now() - started) / 60_000).toFixed(1);

const [hello, stream] = scenarios as [Scenario, Scenario];

// The seed's question: what stacking call-next middlewares costs each stack, against itself.
const rps = (name: string) => figures.find((f) => f.scenario === 'hello' && f.target === name)?.rps;
const stacking: Bar[] = [];
for (const [stack, none, one, ten, group] of [
  ['tsgi', 'tsgi serve', 'tsgi + 1 baseHTTPMiddleware', 'tsgi + 10 baseHTTPMiddleware', 'tsgi'],
  ['Starlette', 'Starlette/uvicorn', 'Starlette/uvicorn + 1 BaseHTTPMiddleware', 'Starlette/uvicorn + 10 BaseHTTPMiddleware', 'starlette'],
] as const) {
  const base = rps(none);
  if (base === undefined) continue;
  stacking.push({ label: `${stack}: 1 call-next middleware / none`, value: rps(one)! / base, group });
  stacking.push({ label: `${stack}: 10 call-next middlewares / none`, value: rps(ten)! / base, group });
}
const stackingTable = [
  '| stack | 1 call-next middleware | 10 stacked |',
  '| --- | ---: | ---: |',
  ...['tsgi', 'Starlette'].flatMap((stack) => {
    const [one, ten] = stacking.filter((b) => b.label.startsWith(`${stack}:`));
    return one && ten ? [`| ${stack} | ${one.value.toFixed(2)} | ${ten.value.toFixed(3)} |`] : [];
  }),
].join('\n');
const results = [
  '# tsgi against its peers',
  '',
  'Generated by `npm run bench:peers` (bench/peers/index.ts); do not edit by hand.',
  '',
  `- Date: ${new Date().toISOString().slice(0, 10)}`,
  `- Machine: ${machine}`,
  `- Load: autocannon ${spawnSync(process.execPath, ['-e', "console.log(require('autocannon/package.json').version)"], { encoding: 'utf8' }).stdout.trim()}, ${connections} connections, over loopback; ${pinning()}`,
  `- Rounds: ${rounds} interleaved rounds of ${seconds} s per server and scenario, after a 1 s warm-up; each figure is the median, each ratio the median of the per-round ratios to node:http (${minutes} min in all)`,
  `- Python peers: ${pythonVersions ?? "not run (install Debian's python3-starlette and python3-uvicorn)"}`,
  '- CPU: each server process\'s own CPU time (user + system: `process.cpuUsage()`, `getrusage` for Python) over a round, divided by the requests it answered; ratios to node:http are per round, then the median; spreads are the lowest and highest per-round ratio',
  '',
  '## 13-byte text response',
  '',
  table(figures, hello),
  '',
  '## Stacking call-next middlewares, against the same stack with none',
  '',
  'Requests per second with 1 and with 10 call-next middlewares (tsgi `baseHTTPMiddleware`, Starlette `BaseHTTPMiddleware`), each setting a header, divided by the same stack with no middleware.',
  '',
  stackingTable,
  '',
  '## 1 MiB streamed in 64 KiB chunks',
  '',
  table(figures, stream),
  '',
  '![ratios to node:http](ratios.svg)',
  '',
].join('\n');
writeFileSync(join(peersDir, 'RESULTS.md'), results);

const bars = (scenario: Scenario): Bar[] => figures.filter((f) => f.scenario === scenario.name).map((f) => ({ label: f.target, value: f.ratio, group: groups.get(f.target)! }));
// Python's CPU per request is tens of times node's: on one scale it would flatten the rest.
const cpuBars: Bar[] = figures
  .filter((f) => f.scenario === hello.name && groups.get(f.target) !== 'starlette')
  .map((f) => ({ label: f.target, value: f.cpuRatio, group: groups.get(f.target)! }));
writeFileSync(join(peersDir, 'ratios.svg'), barChart('Ratios to plain node:http: throughput (higher is better), CPU per request (lower is better)', [
  { heading: 'Requests per second, 13-byte text response', bars: bars(hello) },
  { heading: 'MB/s, 1 MiB streamed in 64 KiB chunks', bars: bars(stream) },
  { heading: 'Stacking: req/s with call-next middlewares, as a ratio to the same stack with none', bars: stacking },
  { heading: 'Server CPU per request, 13-byte text response (node servers; Starlette in RESULTS.md)', bars: cpuBars },
]));
console.log(`\n${results}`);
console.log(`wrote bench/peers/RESULTS.md and bench/peers/ratios.svg in ${minutes} min`);
