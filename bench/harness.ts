/**
 * A small side-by-side timer: every case runs in every round, rounds interleave the cases so
 * that drift (heat, GC, the other core) hits all of them alike, and the median round is kept.
 */
import { cpus } from 'node:os';

export interface Case {
  name: string;
  /** Runs the operation `n` times; returns something derived from the results so the JIT cannot drop them. */
  run: (n: number) => unknown | Promise<unknown>;
}

export interface Result {
  name: string;
  nsPerOp: number;
}

let sink: unknown;

async function timeOnce(c: Case, n: number): Promise<number> {
  const start = process.hrtime.bigint();
  sink = await c.run(n);
  return Number(process.hrtime.bigint() - start) / n;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function sideBySide(cases: Case[], { n, rounds = 7 }: { n: number; rounds?: number }): Promise<Result[]> {
  for (const c of cases) await timeOnce(c, Math.max(1, Math.floor(n / 10))); // warm up the JIT
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    // Rotate the starting case so no case always runs first in a round.
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + round) % cases.length]!;
      samples.get(c.name)!.push(await timeOnce(c, n));
    }
  }
  if (sink === Symbol.for('never')) console.log(sink);
  return cases.map((c) => ({ name: c.name, nsPerOp: median(samples.get(c.name)!) }));
}

export function printTable(title: string, results: Result[], baseline: string, unit = 'ns/op'): void {
  const base = results.find((r) => r.name === baseline)!.nsPerOp;
  console.log(`\n${title}`);
  const width = Math.max(...results.map((r) => r.name.length));
  for (const r of results) {
    console.log(`  ${r.name.padEnd(width)}  ${r.nsPerOp.toFixed(1).padStart(9)} ${unit}  ${(r.nsPerOp / base).toFixed(2).padStart(6)}x`);
  }
}

export function machineLine(): string {
  return `node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores`;
}
