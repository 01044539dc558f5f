/** A TypeScript entry point run as a child process, with what it prints collected. */
import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from './run.js';

export interface Child {
  process: ChildProcess;
  output: () => string;
  /** Resolves with the first printed line matching `pattern`. */
  waitFor: (pattern: RegExp, ms?: number) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

export function runChild(script: string, env: Record<string, string> = {}): Child {
  // node itself with tsx as its loader, not the tsx binary: that one runs the script in a second
  // process, which a kill of the first leaves running (an orphan server, and a test run that
  // never exits because its keep-alive sockets to the orphan stay open).
  const child = spawn(process.execPath, ['--import', 'tsx', `${repoRoot}${script}`], {
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
    waitFor: (pattern, ms = 20_000) => new Promise((resolve, reject) => {
      const deadline = setTimeout(() => {
        clearInterval(poll);
        reject(new Error(`no output matching ${pattern} within ${ms} ms; got:\n${output}`));
      }, ms);
      const poll = setInterval(() => {
        const match = pattern.exec(output);
        if (match) {
          clearInterval(poll);
          clearTimeout(deadline);
          resolve(match);
        }
      }, 20);
    }),
  };
}
