/**
 * WebSocket echo, messages per second over loopback: serve() with an echo app, a bare ws
 * server, and a bare node:net frame loop, side by side in interleaved rounds. Each server runs in
 * its own process (core 0 where taskset exists); the clients run here (core 1): ws clients, each
 * keeping a window of messages in flight, so the figure is server throughput, not round trips.
 *
 *   npm run bench:websocket       (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CLIENTS, BENCH_WINDOW)
 */
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { machineLine } from '../harness.js';
import { pinning, pinSelf, start, type Running, type Target } from '../load.js';

const servers = fileURLToPath(new URL('./servers.js', import.meta.url));
const target = (name: string, variant: string): Target => ({ name, command: process.execPath, args: [servers], env: { VARIANT: variant } });
const targets = [target('bare ws', 'ws'), target('tsgi serve', 'tsgi'), target('node:net frame loop', 'net')];
const sizes = [32, 64 * 1024];
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const clients = Number(process.env.BENCH_CLIENTS ?? 4);
const window = Number(process.env.BENCH_WINDOW ?? 32);

/** Echoes received per second over `seconds`, from `clients` connections with `window` messages in flight each. */
async function measure(url: string, size: number): Promise<number> {
  const payload = Buffer.alloc(size, 'x');
  const sockets = await Promise.all(Array.from({ length: clients }, () => new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url.replace('http:', 'ws:'), { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  })));
  let received = 0;
  let running = true;
  for (const ws of sockets) {
    ws.on('message', () => {
      received += 1;
      if (running) ws.send(payload, { binary: true });
    });
    for (let i = 0; i < window; i++) ws.send(payload, { binary: true });
  }
  await new Promise((r) => setTimeout(r, 500)); // warm-up
  const from = received;
  const started = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const count = received - from;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  running = false;
  await Promise.all(sockets.map((ws) => new Promise<void>((resolve) => {
    ws.once('close', () => resolve());
    ws.terminate();
  })));
  return count / elapsed;
}

pinSelf();
console.log(`bench/websocket: ${machineLine()}; ${pinning()}`);
console.log(`${rounds} interleaved rounds of ${seconds} s per server and size; ${clients} clients x ${window} messages in flight; binary echo\n`);
const running: Running[] = [];
try {
  for (const t of targets) running.push(await start(t));
  const samples = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const size of sizes) {
      for (let i = 0; i < running.length; i++) {
        const r = running[(i + round) % running.length]!;
        const rate = await measure(r.url, size);
        const key = `${r.target.name}|${size}`;
        samples.set(key, [...(samples.get(key) ?? []), rate]);
        console.log(`  round ${round + 1}, ${size} B, ${r.target.name}: ${Math.round(rate)} msg/s`);
      }
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  // Each round's ratio is to bare ws in the same round; the median of those, and their spread.
  const ratios = (name: string, size: number) => {
    const base = samples.get(`bare ws|${size}`)!;
    return samples.get(`${name}|${size}`)!.map((rate, round) => rate / base[round]!);
  };
  const spread = (v: number[]) => `${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)}`;
  console.log('');
  for (const size of sizes) {
    console.log(`${size} B messages`);
    for (const t of targets) {
      const rate = median(samples.get(`${t.name}|${size}`)!);
      const own = ratios(t.name, size);
      console.log(`  ${t.name.padEnd(20)} ${Math.round(rate).toString().padStart(9)} msg/s  ${median(own).toFixed(2)}x bare ws [${spread(own)}]`);
    }
  }
  const small = ratios('tsgi serve', 32);
  const large = ratios('tsgi serve', 64 * 1024);
  console.log(`\nserve echo against bare ws: ${median(small).toFixed(2)}x [${spread(small)}] at 32 B, ${median(large).toFixed(2)}x [${spread(large)}] at 64 KiB (target: 0.90 or more)`);
} finally {
  await Promise.all(running.map((r) => r.stop()));
}
