/**
 * `serve(app, { workers: N })`: N processes from node:cluster share one listening port. The
 * primary forks the workers (each runs the same script, so each builds the app and calls serve
 * itself), waits until all listen, and on close asks each to shut down gracefully.
 */
import cluster, { type Worker } from 'node:cluster';
import type { ServeOptions, ServerHandle } from './serve.js';

/** Set in a worker's environment: "you are worker N of a tsgi cluster". */
export const WORKER_ENV = 'TSGI_WORKER';

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
    void close().finally(() => process.exit(0));
  });
}

function exited(worker: Worker): Promise<void> {
  if (worker.isDead()) return Promise.resolve();
  return new Promise((resolve) => worker.once('exit', () => resolve()));
}

export async function serveWorkers(count: number, options: ServeOptions): Promise<ServerHandle> {
  const workers = Array.from({ length: count }, (_, i) => cluster.fork({ [WORKER_ENV]: String(i + 1) }));
  let ports: number[];
  try {
    ports = await Promise.all(workers.map((worker) => new Promise<number>((resolve, reject) => {
      worker.on('message', (message: unknown) => {
        if (isListening(message)) resolve(message.port);
      });
      worker.once('exit', (code) => reject(new Error(`worker ${worker.id} exited (code ${String(code)}) before it was listening`)));
    })));
  } catch (error) {
    for (const worker of workers) worker.kill();
    throw error;
  }
  const port = ports[0]!;
  const host = options.host ?? '127.0.0.1';

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= (async () => {
    for (const worker of workers) if (!worker.isDead()) worker.send({ type: 'tsgi:close' });
    // Each worker has its own grace period; past it and a margin, stop waiting.
    const margin = (options.gracePeriod ?? 10_000) + 5_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(workers.map(exited)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, margin);
      }),
    ]);
    clearTimeout(timer);
    for (const worker of workers) if (!worker.isDead()) worker.kill('SIGKILL');
    await Promise.all(workers.map(exited));
    if (options.signals !== false) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  })());
  const onSignal = () => void close();
  if (options.signals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, port, close };
}
