/**
 * Runs the `tsgi` command from source, as `npm start` does (src/cli/main.ts under tsx), collecting
 * its output. node runs it with tsx as its loader rather than through the tsx binary, which would
 * put a second process between the test and the server, one a kill would leave running.
 */
import { spawnSync } from 'node:child_process';
import { runChild, type Child } from '../support/child.js';
import { repoRoot } from '../support/run.js';

const main = `${repoRoot}src/cli/main.ts`;

export type Cli = Child;

export function startCli(args: string[], env: Record<string, string> = {}): Cli {
  return runChild('src/cli/main.ts', env, { args, waitMs: 30_000 });
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
