/**
 * Requests per second and p99 over loopback: plain node:http, and serve() with no middleware,
 * with validation, and with one baseHTTPMiddleware; interleaved rounds, ratios to node:http.
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
  target('tsgi serve + 1 baseHTTPMiddleware', 'tsgi-base1'),
];
const scenario: Scenario = { name: 'hello', path: '/', measure: 'requests' };
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);

pinSelf();
console.log(`bench/http: ${machineLine()}; ${pinning()}`);
console.log(`${rounds} interleaved rounds of ${seconds} s per server, ${connections} connections, 13-byte text response\n`);
const running: Running[] = [];
try {
  for (const t of targets) running.push(await start(t));
  const figures = await compare(running, [scenario], { rounds, seconds, warmupSeconds: 1, connections, baseline: 'node:http', onProgress: (l) => console.log(`  ${l}`) });
  console.log(`\n${table(figures, scenario)}`);
  const base1 = figures.find((f) => f.target === 'tsgi serve + 1 baseHTTPMiddleware')!;
  console.log(`\nserve + one baseHTTPMiddleware, validation off: ${base1.ratio.toFixed(2)} of node:http (target: 0.90 or more)`);
} finally {
  await Promise.all(running.map((r) => r.stop()));
}
