/**
 * Fetch-handler interop, side by side in one run, requests per second and CPU per request:
 *
 * - Node: the tsgi app on `serve`, and through toFetchHandler on @hono/node-server and on srvx
 *   (responses built as srvx's FastResponse, its documented fast path, and as the global Response);
 * - Bun: a bare fetch handler on Bun.serve, and the tsgi app through toFetchHandler on Bun.serve;
 * - Hono: on @hono/node-server, and through fromFetchHandler on `serve` (with `overrideGlobalResponse`,
 *   the footing @hono/node-server gives Hono by default, and without).
 *
 * Each group has its baseline (ratios are to it, within the same round, with the spread across
 * rounds). CPU per request is the server process's own `process.cpuUsage()` over a sample,
 * divided by the requests it served (bench/load.ts asks for it over stdin).
 *
 *   npm run -s build:bench && node dist/bench/fetch/index.js   (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_GROUP)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { machineLine } from '../harness.js';
import { compare, pinning, pinSelf, start, table, type Running, type Scenario, type Target } from '../load.js';

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
  { title: 'Node: the tsgi app on serve and through toFetchHandler', targets: [node('tsgi serve', 'serve'), node('toFetchHandler on @hono/node-server', 'hono-node-server'), node('toFetchHandler on srvx (FastResponse)', 'srvx'), node('toFetchHandler on srvx (global Response)', 'srvx-global-response')] },
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
    targets: [
      node('Hono on @hono/node-server', 'hono-native'),
      node('Hono through fromFetchHandler on serve', 'hono-on-serve'),
      node('the same, global Response left native', 'hono-on-serve-native-response'),
      node('a bare fetch handler through fromFetchHandler on serve', 'fetch-on-serve'),
    ],
    goal: { target: 'Hono through fromFetchHandler on serve', ratio: 0.9, label: 'Hono through fromFetchHandler on serve' },
  },
];

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);

const scenario: Scenario = { name: 'text', path: '/', measure: 'requests' };

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
    const baseline = group.targets[0]!.name;
    const figures = await compare(running, [scenario], { rounds, seconds, warmupSeconds: 1, connections, baseline, onProgress: (line) => console.log(`  ${line}`) });
    console.log(`\n${table(figures, scenario, baseline)}`);
    if (group.goal !== undefined) {
      const goal = group.goal;
      const figure = figures.find((f) => f.target === goal.target)!;
      console.log(`\n${goal.label}: ${figure.ratio.toFixed(2)} of ${baseline} in req/s, CPU per request ${figure.cpuRatio.toFixed(2)}x (target: ${goal.ratio.toFixed(2)} or more)`);
    }
  } finally {
    await Promise.all(running.map((r) => r.stop()));
  }
}

pinSelf();
console.log(`bench/fetch: ${machineLine()}; ${pinning()}`);
console.log(`${rounds} interleaved rounds of ${seconds} s per server, ${connections} connections, 13-byte text response`);
// BENCH_GROUP=hono runs only the groups whose title holds that word.
const only = process.env.BENCH_GROUP?.toLowerCase();
for (const group of groups) if (only === undefined || group.title.toLowerCase().includes(only)) await runGroup(group);
