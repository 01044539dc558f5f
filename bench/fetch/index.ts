/**
 * Fetch-handler interop, side by side in one run, requests per second and CPU per request:
 *
 * - Node: the tsgi app on `serve`, and through toFetchHandler on @hono/node-server and on srvx;
 * - Bun: a bare fetch handler on Bun.serve, and the tsgi app through toFetchHandler on Bun.serve;
 * - Hono: on @hono/node-server, and through fromFetchHandler on `serve`.
 *
 * Each group has its baseline (ratios are to it, within the same round). CPU per request is the
 * server process's own `process.cpuUsage()` over a sample, divided by the requests it served.
 *
 *   npm run -s build:bench && node dist/bench/fetch/index.js   (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { machineLine } from '../harness.js';
import { load, pinning, pinSelf, start, type Running, type Target } from '../load.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const bun = fileURLToPath(new URL('../../../node_modules/.bin/bun', import.meta.url));
const node = (name: string, variant: string): Target => ({ name, command: process.execPath, args: [here('./node-servers.js')], env: { VARIANT: variant } });
const onBun = (name: string, variant: string): Target => ({ name, command: bun, args: [here('./bun-server.js')], env: { VARIANT: variant } });

interface Group {
  title: string;
  targets: Target[];
  /** The first target is the baseline. */
  goal?: { target: string; ratio: number; label: string };
  requires?: () => string | null;
}

const groups: Group[] = [
  { title: 'Node: the tsgi app on serve and through toFetchHandler', targets: [node('tsgi serve', 'serve'), node('toFetchHandler on @hono/node-server', 'hono-node-server'), node('toFetchHandler on srvx', 'srvx')] },
  {
    title: 'Bun: toFetchHandler against a bare handler',
    targets: [onBun('bare Bun.serve', 'bare'), onBun('toFetchHandler on Bun.serve', 'tsgi')],
    goal: { target: 'toFetchHandler on Bun.serve', ratio: 0.8, label: 'toFetchHandler on Bun.serve' },
    requires: () => {
      const probe = spawnSync(bun, ['--version'], { encoding: 'utf8' });
      return probe.status === 0 ? null : `bun cannot run here: ${probe.error?.message ?? probe.stderr}`;
    },
  },
  {
    title: 'Hono: on its Node adapter and through fromFetchHandler on serve',
    targets: [node('Hono on @hono/node-server', 'hono-native'), node('Hono through fromFetchHandler on serve', 'hono-on-serve'), node('a bare fetch handler through fromFetchHandler on serve', 'fetch-on-serve')],
    goal: { target: 'Hono through fromFetchHandler on serve', ratio: 0.9, label: 'Hono through fromFetchHandler on serve' },
  },
];

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);

interface Cpu { user: number; system: number; requests: number }
async function cpu(server: Running): Promise<Cpu> {
  return (await (await fetch(`${server.url}/__cpu`)).json()) as Cpu;
}

interface Row { rps: number[]; p99: number[]; cpu: number[]; ratio: number[]; errors: number }
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function runGroup(group: Group): Promise<void> {
  console.log(`\n## ${group.title}\n`);
  const missing = group.requires?.() ?? null;
  if (missing !== null) {
    console.log(`SKIPPED: ${missing}`);
    return;
  }
  const running: Running[] = [];
  try {
    for (const t of group.targets) running.push(await start(t));
    for (const server of running) await load(`${server.url}/`, 1, connections);
    const rows = new Map<string, Row>(running.map((r) => [r.target.name, { rps: [], p99: [], cpu: [], ratio: [], errors: 0 }]));
    for (let round = 0; round < rounds; round++) {
      const rps = new Map<string, number>();
      for (let i = 0; i < running.length; i++) {
        const server = running[(i + round) % running.length]!;
        const before = await cpu(server);
        const sample = await load(`${server.url}/`, seconds, connections);
        const after = await cpu(server);
        const served = after.requests - before.requests;
        const perRequest = served > 0 ? (after.user - before.user + after.system - before.system) / served : NaN;
        const row = rows.get(server.target.name)!;
        row.rps.push(sample.rps);
        row.p99.push(sample.p99);
        row.cpu.push(perRequest);
        row.errors += sample.errors;
        rps.set(server.target.name, sample.rps);
        console.log(`  round ${round + 1}/${rounds} ${server.target.name.padEnd(42)} ${sample.rps.toFixed(0).padStart(7)} req/s  ${perRequest.toFixed(1).padStart(6)} µs CPU/req  p99 ${sample.p99} ms`);
      }
      const base = rps.get(group.targets[0]!.name)!;
      for (const [name, value] of rps) rows.get(name)!.ratio.push(value / base);
    }
    console.log(`\n| server | req/s | CPU µs/req | p99 (ms) | ratio to ${group.targets[0]!.name} | errors |\n| --- | ---: | ---: | ---: | ---: | ---: |`);
    for (const [name, row] of rows) {
      console.log(`| ${name} | ${median(row.rps).toFixed(0)} | ${median(row.cpu).toFixed(1)} | ${median(row.p99)} | ${median(row.ratio).toFixed(2)} | ${row.errors} |`);
    }
    if (group.goal !== undefined) {
      const ratio = median(rows.get(group.goal.target)!.ratio);
      console.log(`\n${group.goal.label}: ${ratio.toFixed(2)} of ${group.targets[0]!.name} (target: ${group.goal.ratio.toFixed(2)} or more)`);
    }
  } finally {
    await Promise.all(running.map((r) => r.stop()));
  }
}

pinSelf();
console.log(`bench/fetch: ${machineLine()}; ${pinning()}`);
console.log(`${rounds} interleaved rounds of ${seconds} s per server, ${connections} connections, 13-byte text response`);
for (const group of groups) await runGroup(group);
