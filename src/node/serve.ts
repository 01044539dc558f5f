/**
 * `serve(app, options)`: runs an ASGI app on `node:http`, the way uvicorn runs one. Lifespan
 * startup before listening, shutdown after; graceful close on `close()`, SIGINT and SIGTERM.
 */
import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HTTPScope } from '../../generated/index.js';
import { ClientDisconnect } from '../http/request.js';
import type { ASGIApp } from '../protocol.js';
import { validate } from '../validate/middleware.js';
import { serveWorkers, WORKER_ENV, reportListening, onCloseRequest } from './cluster.js';
import { RequestResponseCycle, watchConnection } from './cycle.js';
import { Lifespan, type LifespanMode } from '../server/lifespan.js';
import { httpScope } from './scope.js';
import { WebSocketUpgrades } from './websocket.js';

export interface Logger {
  error(message: string, error?: unknown): void;
  warn(message: string, error?: unknown): void;
  info(message: string): void;
}

export interface ServeOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 8000; 0 picks a free port (read it from the handle). */
  port?: number;
  /** Wrap the app in `validate`. Default: on unless `NODE_ENV` is `production`. */
  validate?: boolean;
  /** `auto` (default) runs lifespan if the app speaks it; `on` requires it; `off` skips it. */
  lifespan?: LifespanMode;
  /** The path the app is mounted under, for `scope.root_path`. */
  rootPath?: string;
  /** How long in-flight requests may run on after shutdown begins, in ms. Default 10 000. */
  gracePeriod?: number;
  /** Shut down gracefully on SIGINT and SIGTERM. Default true. */
  signals?: boolean;
  /** Processes to run with node:cluster, sharing the port. Default 1 (no cluster). */
  workers?: number;
  /** Where errors and notices go. Default: the console. */
  logger?: Logger;
  /** A unix domain socket to listen on instead of `host` and `port`; `scope.server` is then `[path, null]`. */
  path?: string;
  /**
   * Take the client address and scheme from `X-Forwarded-For` / `X-Forwarded-Proto` (or RFC 7239
   * `Forwarded`) when the peer is in `forwardedAllowIps`. Default false.
   */
  proxyHeaders?: boolean;
  /** Peers trusted to set proxy headers: addresses, CIDR ranges, or `'*'`. Default `['127.0.0.1']`. */
  forwardedAllowIps?: readonly string[] | '*';
  /** What the server refuses. Each has a production default; see the README. */
  limits?: ServeLimits;
  /** How long the server waits on a client, in ms. Each has a production default; see the README. */
  timeouts?: ServeTimeouts;
}

export interface ServeLimits {
  /** Largest request body in bytes: 413 past it. Default none. */
  maxBodySize?: number;
  /** Most request headers: 431 past it. Default 100. */
  maxHeaders?: number;
  /** Largest request line plus headers, in bytes: 431 past it. Default 16 KiB. */
  maxHeaderSize?: number;
  /** Most app calls in flight: 503 past it. Default none. */
  maxConcurrency?: number;
  /** Largest incoming WebSocket message in bytes: the connection closes with 1009 past it. Default 16 MiB. */
  maxWebSocketMessage?: number;
}

export interface ServeTimeouts {
  /** To receive a request's head: 408 and close past it. Default 30 000. */
  headers?: number;
  /** To receive a whole request: 408 and close past it. Default 300 000. */
  request?: number;
  /** An idle keep-alive connection is closed after it. Default 5 000. */
  keepAlive?: number;
  /** A response may wait this long on a client that reads nothing; then the connection is cut. Default 60 000. */
  write?: number;
  /** How often open WebSockets are pinged; one with no pong by the next ping is dropped. 0 disables. Default 20 000. */
  webSocketPing?: number;
}

export interface ServerHandle {
  /** Like `http://127.0.0.1:8000`. */
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish (within the grace period), runs lifespan shutdown. */
  close(): Promise<void>;
  /** The underlying `node:http` server, for what the options do not cover. Absent in a cluster's primary. */
  server?: Server;
}

const consoleLogger: Logger = {
  error: (message, error) => console.error(`tsgi: ${message}`, ...(error === undefined ? [] : [error])),
  warn: (message, error) => console.warn(`tsgi: ${message}`, ...(error === undefined ? [] : [error])),
  info: (message) => console.info(`tsgi: ${message}`),
};

// The extensions this server implements, offered in every scope.
const EXTENSIONS: NonNullable<HTTPScope['extensions']> = Object.freeze({
  'http.response.trailers': {},
  'http.response.early_hint': {},
  'http.response.pathsend': {},
});

function requestLine(req: IncomingMessage): string {
  return `"${req.method ?? ''} ${req.url ?? ''} HTTP/${req.httpVersion}"`;
}

export async function serve(app: ASGIApp, options: ServeOptions = {}): Promise<ServerHandle> {
  const workers = options.workers ?? 1;
  if (workers > 1 && cluster.isPrimary) return serveWorkers(workers, options);

  const logger = options.logger ?? consoleLogger;
  const host = options.host ?? '127.0.0.1';
  const gracePeriod = options.gracePeriod ?? 10_000;
  const wrapped = validate(app, options.validate === undefined ? {} : { enabled: options.validate });

  const lifespan = new Lifespan(wrapped, options.lifespan ?? 'auto', logger);
  await lifespan.startup();

  const context = { scheme: 'http' as const, rootPath: options.rootPath ?? '', state: lifespan.state, extensions: EXTENSIONS };
  // Requests still running, and who to tell when there are none (a counter, not a set of
  // promises: this is paid on every request).
  let inFlight = 0;
  let idle: (() => void) | undefined;

  /** One request: run the app, and answer for it when it fails or leaves its response unfinished. */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    inFlight += 1;
    const cycle = new RequestResponseCycle(req, res);
    try {
      await wrapped(httpScope(req, context), cycle.receive, cycle.send);
      if (cycle.disconnected) return;
      if (!cycle.responseStarted) {
        logger.error(`ASGI application returned without starting a response, ${requestLine(req)}`);
        cycle.internalError();
      } else if (!cycle.responseComplete) {
        logger.error(`ASGI application returned without completing its response, ${requestLine(req)}`);
        cycle.abort();
      }
    } catch (error) {
      // A send on a closed connection raises so that the app can stop; that is no error.
      if (!(error instanceof ClientDisconnect && cycle.disconnected)) {
        logger.error(`Exception in ASGI application, ${requestLine(req)}`, error);
      }
      if (!cycle.responseStarted) cycle.internalError();
      else if (!cycle.responseComplete) cycle.abort();
    } finally {
      inFlight -= 1;
      if (inFlight === 0) idle?.();
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  server.on('connection', watchConnection);
  // The cycle answers 100-continue itself, when the app first asks for the body.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => server.emit('request', req, res));
  const webSockets = new WebSocketUpgrades(wrapped, { context, logger, maxMessage: options.limits?.maxWebSocketMessage, pingInterval: options.timeouts?.webSocketPing });
  server.on('upgrade', webSockets.handle);

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8000, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await lifespan.shutdown();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    logger.info(`${signal}: shutting down`);
    void close();
  };

  function close(): Promise<void> {
    return (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const webSocketsClosed = webSockets.shutdown(gracePeriod); // 1012 to each, then its app's return
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, gracePeriod);
      });
      const drained = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => { idle = resolve; });
      await Promise.race([drained, graceOver]);
      clearTimeout(timer);
      if (inFlight > 0) logger.warn(`${inFlight} request(s) still running after the ${gracePeriod} ms grace period; closing their connections`);
      // Apps cannot be cancelled: one still running is now told the client is gone (receive()
      // answers http.disconnect, send() raises) and shutdown goes on without it.
      server.closeAllConnections();
      await webSocketsClosed;
      await stopped;
      await lifespan.shutdown();
      if (options.signals !== false) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    })());
  }

  if (options.signals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  if (process.env[WORKER_ENV] !== undefined) {
    reportListening(port);
    onCloseRequest(close);
  }
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { url, port, close };
}
