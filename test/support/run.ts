/** Runs the repository's TypeScript entry points and tools as child processes. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const tsx = `${repoRoot}node_modules/.bin/tsx`;

export function runTs(script: string, args: string[], cwd = repoRoot): SpawnSyncReturns<string> {
  return spawnSync(tsx, [`${repoRoot}${script}`, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
}

export function run(command: string, args: string[], cwd = repoRoot, timeout = 120_000, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_loglevel: 'error', ...env } });
}
