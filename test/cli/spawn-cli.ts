/**
 * Runs the `tsgi` command from source, as `npm start` does (src/cli/main.ts under tsx), collecting
 * its output. node runs it with tsx as its loader rather than through the tsx binary, which would
 * put a second process between the test and the server, one a kill would leave running.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { repoRoot } from '../support/run.js';

const main = `${repoRoot}src/cli/main.ts`;

export interface Cli {
  process: ChildProcess;
  output: () => string;
  /** Resolves with the `n`th match (1-based) of `pattern` in what the command printed. */
  waitFor: (pattern: RegExp, ms?: number, n?: number) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

export function startCli(args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    cwd: repoRoot,
    env: { ...process.env, NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    process: child,
    output: () => output,
    exited,
    waitFor: (pattern, ms = 30_000, n = 1) => new Promise((resolve, reject) => {
      const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
      const deadline = setTimeout(() => {
        clearInterval(poll);
        reject(new Error(`no output matching ${pattern} (${n}) within ${ms} ms; got:\n${output}`));
      }, ms);
      const poll = setInterval(() => {
        const matches = [...output.matchAll(global)];
        if (matches.length >= n) {
          clearInterval(poll);
          clearTimeout(deadline);
          resolve(matches[n - 1]!);
        }
      }, 20);
    }),
  };
}

/** Runs the command to completion (for the ones that fail fast). */
export function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_ENV: 'development' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Stops a command still running and waits for it: SIGTERM first, so that a `--reload` parent
 * passes it on to the server it watches over, then SIGKILL.
 */
export async function stopCli(cli: Cli | undefined): Promise<void> {
  if (!cli || cli.process.exitCode !== null || cli.process.signalCode !== null) return;
  cli.process.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const gone = await Promise.race([
    cli.exited.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 15_000);
    }),
  ]);
  clearTimeout(timer);
  if (!gone) {
    cli.process.kill('SIGKILL');
    await cli.exited;
  }
}
