/**
 * Load tests over loopback, side by side: every server runs in its own process (on core 0 where
 * taskset exists), autocannon runs here (on core 1), the servers take turns in interleaved rounds,
 * and each figure is the median of the rounds, also as a ratio to a baseline in the same round.
 */
import autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';

export interface Target {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export interface Scenario {
  name: string;
  path: string;
  /** Which figures matter for it: requests per second and p99, or throughput. */
  measure: 'requests' | 'throughput';
}

export interface Sample {
  rps: number;
  p99: number;
  mbps: number;
  errors: number;
}

export interface Running {
  target: Target;
  url: string;
  stop(): Promise<void>;
}

export const hasTaskset = spawnSync('taskset', ['-V']).status === 0;
const twoCores = cpus().length >= 2;

/** Where the servers run and where the load generator runs, for the report. */
export function pinning(): string {
  return hasTaskset && twoCores
    ? 'servers pinned to core 0, autocannon to core 1 (taskset); one core each'
    : `no pinning (${hasTaskset ? `${cpus().length} core(s)` : 'taskset not found'}): servers and autocannon share ${cpus().length} core(s)`;
}

/** Moves this process (the load generator) to core 1. */
export function pinSelf(): void {
  if (hasTaskset && twoCores) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
}

/** Starts a server that prints `listening <url>` once it is ready. */
export function start(target: Target, timeoutMs = 30_000): Promise<Running> {
  const [command, args] = hasTaskset && twoCores ? ['taskset', ['-c', '0', target.command, ...target.args]] : [target.command, target.args];
  const child: ChildProcess = spawn(command as string, args as string[], {
    cwd: target.cwd,
    env: { ...process.env, NODE_ENV: 'production', ...target.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${target.name} did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (http:\/\/\S+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({
        target,
        url: match[1]!,
        stop: () => new Promise((done) => {
          if (child.exitCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }),
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${target.name} exited (code ${String(code)}) before listening:\n${output}`));
    });
  });
}

export async function load(url: string, seconds: number, connections: number): Promise<Sample> {
  const result = await autocannon({ url, connections, duration: seconds, pipelining: 1 });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    mbps: result.throughput.average / 1024 / 1024,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Figure {
  target: string;
  scenario: string;
  rps: number;
  p99: number;
  mbps: number;
  /** Median over rounds of this target's figure divided by the baseline's in the same round. */
  ratio: number;
  errors: number;
}

export interface CompareOptions {
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /** The target every ratio is to. */
  baseline: string;
  onProgress?: (line: string) => void;
}

/**
 * Runs every scenario against every target, in `rounds` rounds; within a round the targets take
 * turns in a rotating order, so drift over the run touches them all alike.
 */
export async function compare(running: Running[], scenarios: Scenario[], options: CompareOptions): Promise<Figure[]> {
  const samples = new Map<string, Sample[]>();
  const key = (t: string, s: string) => `${t}\u0000${s}`;
  for (const scenario of scenarios) {
    for (const server of running) await load(server.url + scenario.path, options.warmupSeconds, options.connections);
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const scenario of scenarios) {
      for (let i = 0; i < running.length; i++) {
        const server = running[(i + round) % running.length]!;
        const sample = await load(server.url + scenario.path, options.seconds, options.connections);
        const k = key(server.target.name, scenario.name);
        samples.set(k, [...(samples.get(k) ?? []), sample]);
        options.onProgress?.(`round ${round + 1}/${options.rounds} ${scenario.name.padEnd(10)} ${server.target.name.padEnd(40)} ${sample.rps.toFixed(0).padStart(7)} req/s  p99 ${String(sample.p99).padStart(4)} ms  ${sample.mbps.toFixed(1).padStart(7)} MB/s`);
      }
    }
  }
  const figures: Figure[] = [];
  for (const scenario of scenarios) {
    const base = samples.get(key(options.baseline, scenario.name))!;
    for (const server of running) {
      const own = samples.get(key(server.target.name, scenario.name))!;
      const value = (s: Sample) => (scenario.measure === 'throughput' ? s.mbps : s.rps);
      figures.push({
        target: server.target.name,
        scenario: scenario.name,
        rps: median(own.map((s) => s.rps)),
        p99: median(own.map((s) => s.p99)),
        mbps: median(own.map((s) => s.mbps)),
        ratio: median(own.map((s, round) => value(s) / value(base[round]!))),
        errors: own.reduce((n, s) => n + s.errors, 0),
      });
    }
  }
  return figures;
}

export function table(figures: Figure[], scenario: Scenario): string {
  const rows = figures.filter((f) => f.scenario === scenario.name);
  const head = scenario.measure === 'throughput'
    ? '| server | MB/s | ratio to node:http | errors |\n| --- | ---: | ---: | ---: |'
    : '| server | req/s | p99 (ms) | ratio to node:http | errors |\n| --- | ---: | ---: | ---: | ---: |';
  const lines = rows.map((f) => scenario.measure === 'throughput'
    ? `| ${f.target} | ${f.mbps.toFixed(1)} | ${f.ratio.toFixed(2)} | ${f.errors} |`
    : `| ${f.target} | ${f.rps.toFixed(0)} | ${f.p99} | ${f.ratio.toFixed(2)} | ${f.errors} |`);
  return [head, ...lines].join('\n');
}
