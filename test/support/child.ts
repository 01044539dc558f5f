/** A TypeScript entry point run as a child process, with what it prints collected. */
import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from './run.js';

export interface Child {
  process: ChildProcess;
  output: () => string;
  /** Resolves with the `n`th match (1-based, default the first) of `pattern` in what it printed. */
  waitFor: (pattern: RegExp, ms?: number, n?: number) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

export interface ChildOptions {
  /** Arguments after the script. */
  args?: string[];
  /** How long `waitFor` waits by default, in ms. Default 20 000. */
  waitMs?: number;
}

export function runChild(script: string, env: Record<string, string> = {}, options: ChildOptions = {}): Child {
  // node itself with tsx as its loader, not the tsx binary: that one runs the script in a second
  // process, which a kill of the first leaves running (an orphan server, and a test run that
  // never exits because its keep-alive sockets to the orphan stay open).
  const child = spawn(process.execPath, ['--import', 'tsx', `${repoRoot}${script}`, ...(options.args ?? [])], {
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
    waitFor: (pattern, ms = options.waitMs ?? 20_000, n = 1) => new Promise((resolve, reject) => {
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
