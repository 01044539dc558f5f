/**
 * `--reload`: run the same command, without `--reload`, under `node --watch`, which restarts it
 * when any file it loaded changes. Node's own watch mode needs no dependency and knows exactly
 * which files the process imported (the app module and everything it pulls in, through tsx's
 * loader too); chokidar would add a dependency and a guess at which folders to watch.
 */
import { spawn } from 'node:child_process';

export function runWithReload(argv: readonly string[]): Promise<number> {
  const script = process.argv[1]!;
  const args = argv.filter((arg) => arg !== '--reload');
  const child = spawn(process.execPath, [...process.execArgv, '--watch', '--no-warnings=ExperimentalWarning', script, ...args], { stdio: 'inherit' });
  // The watcher stops its child on SIGINT or SIGTERM; the signal is passed on, and this process
  // leaves with the watcher's code.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal === null ? 1 : 0));
    });
  });
}
