/**
 * Load tests over loopback, side by side: every server runs in its own process (on core 0 where
 * taskset exists), autocannon runs here (on core 1), the servers take turns in interleaved rounds,
 * and each figure is the median of the rounds, also as a ratio to a baseline in the same round,
 * with the spread of that ratio across rounds. Beside requests per second, each sample has the
 * server's CPU time per request, which the server process measures itself (it answers `cpu` on
 * stdin, see cpu-report.ts): on a shared machine it is steadier than throughput.
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
  /** The server's CPU time per request answered, in µs. */
  cpuPerRequest: number;
}

export interface Running {
  target: Target;
  url: string;
  /** The server process's CPU time so far, in µs, as it measures it. */
  cpu(): Promise<number>;
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

/** Starts a server that prints `listening <url>` once it is ready and answers `cpu` lines on stdin. */
export function start(target: Target, timeoutMs = 30_000): Promise<Running> {
  const [command, args] = hasTaskset && twoCores ? ['taskset', ['-c', '0', target.command, ...target.args]] : [target.command, target.args];
  const child: ChildProcess = spawn(command as string, args as string[], {
    cwd: target.cwd,
    env: { ...process.env, NODE_ENV: 'production', ...target.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let pending = '';
  let listening: ((url: string) => void) | undefined;
  const cpuWaiters: ((micros: number) => void)[] = [];
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n')) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      const cpu = /^cpu (\d+)$/.exec(line.trim());
      if (cpu) {
        cpuWaiters.shift()?.(Number(cpu[1]));
        continue;
      }
      output += `${line}\n`;
      const match = /listening (http:\/\/\S+)/.exec(line);
      if (match) listening?.(match[1]!);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // A server that stops reading its stdin (it exited) must not break the runner.
  child.stdin!.on('error', () => {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${target.name} did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    listening = (url) => {
      listening = undefined;
      clearTimeout(timer);
      resolve({
        target,
        url,
        cpu: () => new Promise((answer, fail) => {
          const timeout = setTimeout(() => fail(new Error(`${target.name} did not answer 'cpu' within 5 s`)), 5000);
          cpuWaiters.push((micros) => {
            clearTimeout(timeout);
            answer(micros);
          });
          child.stdin!.write('cpu\n');
        }),
        stop: () => new Promise((done) => {
          if (child.exitCode !== null) return done();
          child.once('exit', () => done());
          // Closing stdin lets a server whose stdin listener is all that is left exit by itself.
          child.stdin!.end();
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }),
      });
    };
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${target.name} exited (code ${String(code)}) before listening:\n${output}`));
    });
  });
}

/** One sample: autocannon against `server` for `seconds`, and the server's CPU time over it. */
export async function load(server: Running, path: string, seconds: number, connections: number): Promise<Sample> {
  const before = await server.cpu();
  const result = await autocannon({ url: server.url + path, connections, duration: seconds, pipelining: 1 });
  const after = await server.cpu();
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    mbps: result.throughput.average / 1024 / 1024,
    errors: result.errors + result.timeouts + result.non2xx,
    cpuPerRequest: result.requests.total > 0 ? (after - before) / result.requests.total : NaN,
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
  /** The lowest and highest of those per-round ratios. */
  ratioSpread: [number, number];
  /** Median CPU time per request in the server, µs. */
  cpuPerRequest: number;
  /** Median over rounds of CPU per request divided by the baseline's in the same round, and its spread. */
  cpuRatio: number;
  cpuRatioSpread: [number, number];
  errors: number;
}

export interface CompareOptions {
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /** The target every ratio is to. */
  baseline: string;
  /**
   * Each round after the first runs every server in a process of its own, started and warmed
   * afresh (default true). A process can settle into a slower state for its whole life (its JIT
   * and GC made different choices): here one server in a run was seen 25% slower in every round,
   * and fine in the next run. Fresh processes make that one sample in a round, not a verdict.
   */
  freshProcesses?: boolean;
  onProgress?: (line: string) => void;
}

/**
 * Runs every scenario against every target, in `rounds` rounds; within a round the targets take
 * turns in a rotating order, so drift over the run touches them all alike. With `freshProcesses`,
 * `running` is updated in place with the processes that replace the ones stopped.
 */
export async function compare(running: Running[], scenarios: Scenario[], options: CompareOptions): Promise<Figure[]> {
  const samples = new Map<string, Sample[]>();
  const key = (t: string, s: string) => `${t}\u0000${s}`;
  const warm = async (server: Running) => {
    for (const scenario of scenarios) await load(server, scenario.path, options.warmupSeconds, options.connections);
  };
  for (const server of running) await warm(server);
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < running.length; i++) {
      const index = (i + round) % running.length;
      let server = running[index]!;
      if (round > 0 && options.freshProcesses !== false) {
        await server.stop();
        server = running[index] = await start(server.target);
        await warm(server);
      }
      for (const scenario of scenarios) {
        const sample = await load(server, scenario.path, options.seconds, options.connections);
        const k = key(server.target.name, scenario.name);
        samples.set(k, [...(samples.get(k) ?? []), sample]);
        options.onProgress?.(`round ${round + 1}/${options.rounds} ${scenario.name.padEnd(10)} ${server.target.name.padEnd(40)} ${sample.rps.toFixed(0).padStart(7)} req/s  p99 ${String(sample.p99).padStart(4)} ms  ${sample.mbps.toFixed(1).padStart(7)} MB/s  ${sample.cpuPerRequest.toFixed(1).padStart(7)} µs CPU/req`);
      }
    }
  }
  const figures: Figure[] = [];
  for (const scenario of scenarios) {
    const base = samples.get(key(options.baseline, scenario.name))!;
    for (const server of running) {
      const own = samples.get(key(server.target.name, scenario.name))!;
      const value = (s: Sample) => (scenario.measure === 'throughput' ? s.mbps : s.rps);
      const ratios = own.map((s, round) => value(s) / value(base[round]!));
      const cpuRatios = own.map((s, round) => s.cpuPerRequest / base[round]!.cpuPerRequest);
      figures.push({
        target: server.target.name,
        scenario: scenario.name,
        rps: median(own.map((s) => s.rps)),
        p99: median(own.map((s) => s.p99)),
        mbps: median(own.map((s) => s.mbps)),
        ratio: median(ratios),
        ratioSpread: [Math.min(...ratios), Math.max(...ratios)],
        cpuPerRequest: median(own.map((s) => s.cpuPerRequest)),
        cpuRatio: median(cpuRatios),
        cpuRatioSpread: [Math.min(...cpuRatios), Math.max(...cpuRatios)],
        errors: own.reduce((n, s) => n + s.errors, 0),
      });
    }
  }
  return figures;
}

const spread = ([low, high]: [number, number]) => `${low.toFixed(2)}–${high.toFixed(2)}`;

/** A markdown table of one scenario: the figures, and both ratios to the baseline with their spread across rounds. */
export function table(figures: Figure[], scenario: Scenario, baseline = 'node:http'): string {
  const rows = figures.filter((f) => f.scenario === scenario.name);
  const cpuHead = `CPU µs/request | CPU ratio to ${baseline} | CPU spread`;
  const head = scenario.measure === 'throughput'
    ? `| server | MB/s | ratio to ${baseline} | spread | ${cpuHead} | errors |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`
    : `| server | req/s | p99 (ms) | ratio to ${baseline} | spread | ${cpuHead} | errors |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`;
  const cpu = (f: Figure) => `${f.cpuPerRequest.toFixed(1)} | ${f.cpuRatio.toFixed(2)} | ${spread(f.cpuRatioSpread)}`;
  const lines = rows.map((f) => scenario.measure === 'throughput'
    ? `| ${f.target} | ${f.mbps.toFixed(1)} | ${f.ratio.toFixed(2)} | ${spread(f.ratioSpread)} | ${cpu(f)} | ${f.errors} |`
    : `| ${f.target} | ${f.rps.toFixed(0)} | ${f.p99} | ${f.ratio.toFixed(2)} | ${spread(f.ratioSpread)} | ${cpu(f)} | ${f.errors} |`);
  return [head, ...lines].join('\n');
}
