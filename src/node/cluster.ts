/**
 * `serve(app, { workers: N })`: N processes from node:cluster share one listening port. The
 * primary forks the workers (each runs the same script, so each builds the app and calls serve
 * itself), waits until all listen, replaces a worker that dies, gives up on a crash loop, and on
 * close asks each to shut down gracefully.
 */
import cluster, { type Worker } from 'node:cluster';
import { consoleLogger } from '../server/logger.js';
import type { ServeOptions, ServerHandle } from './serve.js';
import { removeStaleSocket } from './stale-socket.js';
import { serverUrl } from './url.js';

/** Set in a worker's environment: "you are worker N of a tsgi cluster". */
export const WORKER_ENV = 'TSGI_WORKER';

/**
 * A worker that dies before it listens, or within this long after, died "right after it
 * started": the app, its config or the port is broken, and a new worker would die the same way.
 */
export const STARTUP_WINDOW = 5_000;
/** That many such deaths in a row, with no worker surviving its startup window between, is a crash loop. */
export const CRASH_LOOP_DEATHS = 5;
/** The first restart after a quick death waits this long; each further one twice as long. */
const BACKOFF_FIRST = 250;
const BACKOFF_MAX = 4_000;
/** How long the workers still up get to finish their requests when the primary gives up. */
const CRASH_STOP_GRACE = 3_000;

interface Listening {
  type: 'tsgi:listening';
  port: number;
}

function isListening(message: unknown): message is Listening {
  return (message as Listening | null)?.type === 'tsgi:listening';
}

/** In a worker: tell the primary the server is up. */
export function reportListening(port: number): void {
  process.send?.({ type: 'tsgi:listening', port } satisfies Listening);
}

/** In a worker: shut down when the primary asks, then leave. */
export function onCloseRequest(close: () => Promise<void>): void {
  process.on('message', (message: unknown) => {
    if ((message as { type?: string } | null)?.type !== 'tsgi:close') return;
    // A failed lifespan shutdown is logged and still exits 0, as uvicorn's does (it logs
    // "Application shutdown failed" and returns normally): the app's cleanup is its own to
    // report. Only close() itself failing exits 1.
    void close().then(() => process.exit(0), () => process.exit(1));
  });
}

function exited(worker: Worker): Promise<void> {
  if (worker.isDead()) return Promise.resolve();
  return new Promise((resolve) => worker.once('exit', () => resolve()));
}

function describeExit(code: number | null, signal: string | null): string {
  return signal !== null ? `killed by ${signal}` : `exit code ${String(code)}`;
}

/** One place in the cluster, kept filled by successive workers. */
interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  /** Quick deaths of this slot's workers in a row: the backoff's exponent. */
  failures: number;
  restart: NodeJS.Timeout | undefined;
}

export async function serveWorkers(count: number, options: ServeOptions): Promise<ServerHandle> {
  const logger = options.logger ?? consoleLogger;
  const ownsSignals = options.signals !== false;
  const slots: Slot[] = Array.from({ length: count }, (_, index) => ({ index, worker: undefined, failures: 0, restart: undefined }));
  // Quick deaths in a row across the cluster; a worker that outlives its startup window resets it.
  let quickDeaths = 0;
  let closing: Promise<void> | undefined;
  let port: number | undefined;
  let settleStartup!: (error?: Error) => void;
  const startup = new Promise<void>((resolve, reject) => {
    settleStartup = (error) => (error === undefined ? resolve() : reject(error));
  });
  let started = false;
  const listening = new Set<Worker>();

  function start(slot: Slot): void {
    slot.restart = undefined;
    const worker = cluster.fork({ [WORKER_ENV]: String(slot.index + 1) });
    slot.worker = worker;
    let listenedAt: number | undefined;
    let window: NodeJS.Timeout | undefined;
    worker.on('message', (message: unknown) => {
      if (!isListening(message) || listenedAt !== undefined) return;
      listening.add(worker);
      listenedAt = Date.now();
      port ??= message.port;
      window = setTimeout(() => {
        quickDeaths = 0;
        slot.failures = 0;
      }, STARTUP_WINDOW);
      window.unref();
      if (!started && slots.every((s) => s.worker !== undefined && listening.has(s.worker))) {
        started = true;
        settleStartup();
      }
    });
    worker.once('exit', (code, signal) => {
      clearTimeout(window);
      listening.delete(worker);
      if (closing !== undefined) return;
      const quick = listenedAt === undefined || Date.now() - listenedAt < STARTUP_WINDOW;
      const how = describeExit(code, signal);
      if (quick) {
        quickDeaths += 1;
        slot.failures += 1;
      } else {
        slot.failures = 0;
      }
      if (quickDeaths >= CRASH_LOOP_DEATHS) {
        giveUp(`workers keep dying right after they start (${quickDeaths} in a row, the last ${listenedAt === undefined ? 'before it listened' : 'just after it listened'}, ${how}); stopping`);
        return;
      }
      const delay = slot.failures === 0 ? 0 : Math.min(BACKOFF_FIRST * 2 ** (slot.failures - 1), BACKOFF_MAX);
      logger.error(`worker ${slot.index + 1} (pid ${String(worker.process.pid)}) exited unexpectedly (${how}); starting a new one${delay > 0 ? ` in ${delay} ms` : ''}`);
      slot.restart = setTimeout(() => start(slot), delay);
    });
  }

  function live(): Worker[] {
    return slots.flatMap((slot) => (slot.worker === undefined || slot.worker.isDead() ? [] : [slot.worker]));
  }

  /** A crash loop: stop every worker, then fail (before startup) or leave (after it). */
  function giveUp(reason: string): void {
    // The workers still up get a short graceful stop; the dying ones are past caring.
    void stopAll(CRASH_STOP_GRACE).then(() => {
      if (!started) {
        settleStartup(new Error(reason));
        return;
      }
      logger.error(reason);
      if (ownsSignals) process.exit(1);
      process.exitCode = 1;
    });
  }

  /** Asks every worker to shut down, waits `grace` ms (plus a margin), then kills what is left. */
  function stopAll(grace: number): Promise<void> {
    return (closing ??= (async () => {
      for (const slot of slots) clearTimeout(slot.restart);
      const workers = live();
      for (const worker of workers) {
        // A worker still starting has no server to close yet (nor a handler for the request).
        if (listening.has(worker) && worker.isConnected()) worker.send({ type: 'tsgi:close' });
        else worker.process.kill('SIGTERM');
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(workers.map(exited)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, grace);
        }),
      ]);
      clearTimeout(timer);
      for (const worker of workers) if (!worker.isDead()) worker.kill('SIGKILL');
      await Promise.all(workers.map(exited));
      if (ownsSignals) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    })());
  }

  // Each worker has its own grace period; past it and a margin, stop waiting.
  const close = (): Promise<void> => stopAll((options.gracePeriod ?? 10_000) + 5_000);

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn(`${signal} again: exiting now`);
      for (const worker of live()) worker.kill('SIGKILL');
      process.exit(1);
    }
    signalled = true;
    logger.info(`${signal}: shutting down ${live().length} worker(s)`);
    // The primary runs no app: once its workers are gone it has nothing left to do.
    void close().then(() => process.exit(process.exitCode ?? 0));
  };
  if (ownsSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  if (options.path !== undefined) removeStaleSocket(options.path);
  for (const slot of slots) start(slot);
  try {
    await startup;
  } catch (error) {
    if (ownsSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    throw error;
  }
  // On a unix socket each worker reports port 0, as serve's handle has it.
  const bound = port ?? 0;
  return { url: serverUrl(options.host ?? '127.0.0.1', bound, options.path), port: bound, close };
}
