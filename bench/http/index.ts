/**
 * Requests per second and server CPU per request over loopback: plain node:http, and serve()
 * alone, with validation, under one pure ASGI wrapper, under one baseHTTPMiddleware and under
 * ten; interleaved rounds, ratios to node:http in the same round, with their spread.
 *
 *   npm run bench:http            (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS to change)
 */
import { fileURLToPath } from 'node:url';
import { compare, pinning, pinSelf, start, table, type Running, type Scenario, type Target } from '../load.js';
import { machineLine } from '../harness.js';

const servers = fileURLToPath(new URL('./servers.js', import.meta.url));
const target = (name: string, variant: string): Target => ({ name, command: process.execPath, args: [servers], env: { VARIANT: variant } });
const targets = [
  target('node:http', 'node'),
  target('tsgi serve', 'tsgi'),
  target('tsgi serve + validation', 'tsgi-validate'),
  target('tsgi serve + 1 pure ASGI wrapper', 'tsgi-pure1'),
  target('tsgi serve + 1 baseHTTPMiddleware', 'tsgi-base1'),
  target('tsgi serve + 10 baseHTTPMiddleware', 'tsgi-base10'),
];
const scenario: Scenario = { name: 'hello', path: '/', measure: 'requests' };
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);

pinSelf();
console.log(`bench/http: ${machineLine()}; ${pinning()}`);
console.log(`${rounds} interleaved rounds of ${seconds} s per server, ${connections} connections, 13-byte text response`);
console.log('CPU is the server process\'s own (process.cpuUsage()) over each round, per request answered\n');
const running: Running[] = [];
try {
  for (const t of targets) running.push(await start(t));
  const figures = await compare(running, [scenario], { rounds, seconds, warmupSeconds: 1, connections, baseline: 'node:http', onProgress: (l) => console.log(`  ${l}`) });
  console.log(`\n${table(figures, scenario)}`);
  const goals: [string, string, number, number | undefined][] = [
    ['tsgi serve', 'serve', 1.1, undefined],
    ['tsgi serve + 1 baseHTTPMiddleware', 'serve + 1 baseHTTPMiddleware', 1.25, 0.85],
    ['tsgi serve + 10 baseHTTPMiddleware', 'serve + 10 baseHTTPMiddleware', 1.6, 0.7],
  ];
  console.log('\nagainst the targets (ratios to node:http, median of the rounds, spread in brackets)');
  for (const [name, label, cpuGoal, rpsGoal] of goals) {
    const f = figures.find((x) => x.target === name)!;
    const rps = `req/s ${f.ratio.toFixed(2)} [${f.ratioSpread.map((v) => v.toFixed(2)).join('–')}]${rpsGoal === undefined ? '' : ` (target ${rpsGoal} or more)`}`;
    const cpu = `CPU/request ${f.cpuRatio.toFixed(2)}x [${f.cpuRatioSpread.map((v) => v.toFixed(2)).join('–')}] (target at most ${cpuGoal}x)`;
    console.log(`  ${label.padEnd(30)} ${cpu}; ${rps}`);
  }
} finally {
  await Promise.all(running.map((r) => r.stop()));
}
