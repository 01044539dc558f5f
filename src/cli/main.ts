#!/usr/bin/env node
/**
 * tsgi serve MODULE[:EXPORT] [flags]: the way uvicorn is started, for ASGI apps in TypeScript.
 * A mistake on the command line (a flag, the module path, the export) is one line on stderr and
 * exit code 2; a server that cannot start (port taken, lifespan startup failed) one line and 1.
 */
import cluster from 'node:cluster';
import { serve } from '../node/serve.js';
import { helpText, parseServeArgs, USAGE, UsageError } from './flags.js';
import { loadApp } from './load-app.js';
import { runWithReload } from './reload.js';

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(helpText());
    return command === undefined ? 2 : 0;
  }
  if (command !== 'serve') throw new UsageError(`unknown command '${command}'; ${USAGE}`);
  const parsed = parseServeArgs(rest);
  if (parsed.help) {
    process.stdout.write(helpText());
    return 0;
  }
  if (parsed.reload) return runWithReload(argv);

  const app = await loadApp(parsed.app);
  try {
    const server = await serve(app, parsed.options);
    if (cluster.isPrimary) {
      const workers = parsed.options.workers ?? 1;
      console.info(`tsgi: listening on ${server.url}${workers > 1 ? ` (${workers} workers)` : ''}`);
    }
  } catch (error) {
    console.error(`tsgi: ${(error as Error).message}`);
    return 1;
  }
  return -1; // serving: the process ends on a signal
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`tsgi: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  },
);
