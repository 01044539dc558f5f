/**
 * `serve(app, options)`: runs an ASGI app on `node:http`, the way uvicorn runs one. Lifespan
 * startup before listening, shutdown after; graceful close on `close()`, SIGINT and SIGTERM.
 * node:http parses and enforces what it can (head size, head and request timeouts, keep-alive);
 * this module sets it up, refuses what node does not (header count, body size, concurrency), and
 * hands each request to a RequestResponseCycle.
 */
import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { HTTPScope } from '../../generated/index.js';
import { ClientDisconnect } from '../http/request.js';
import type { ASGIApp } from '../protocol.js';
import { validate } from '../validate/middleware.js';
import { serveWorkers, WORKER_ENV, reportListening, onCloseRequest } from './cluster.js';
import { onClientError } from './client-error.js';
import { RequestResponseCycle, watchConnection, type CycleOptions } from './cycle.js';
import { forwardedFrom, ProxyTrust } from './proxy.js';
import { refuse } from './refuse.js';
import { RunningCalls } from './running.js';
import { Lifespan, type LifespanMode } from '../server/lifespan.js';
import { httpScope } from './scope.js';
import { WebSocketUpgrades } from './websocket.js';
import { consoleLogger, type Logger } from '../server/logger.js';
import { removeStaleSocket } from './stale-socket.js';
import { serverUrl } from './url.js';

export type { Logger } from '../server/logger.js';

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
  /**
   * Peers trusted to set proxy headers: addresses, CIDR ranges, or `'*'`. Default `['127.0.0.1']`.
   * A peer on a unix socket (`path`) has no address; it is local by construction (the socket
   * file's permissions decide who may connect) and is trusted.
   */
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
  /**
   * Like `http://127.0.0.1:8000`. On a unix socket, `http+unix://` and the socket's path
   * percent-encoded as the authority (`http+unix://%2Ftmp%2Fapp.sock`), the form curl-less clients
   * such as Python's requests-unixsocket take.
   */
  url: string;
  /** The TCP port; 0 on a unix socket. */
  port: number;
  /** Stops accepting, lets in-flight requests finish (within the grace period), runs lifespan shutdown. */
  close(): Promise<void>;
  /** The underlying `node:http` server, for what the options do not cover. Absent in a cluster's primary. */
  server?: Server;
}


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
  const limits = options.limits ?? {};
  const timeouts = options.timeouts ?? {};
  const maxHeaders = limits.maxHeaders ?? 100;
  const maxBodySize = limits.maxBodySize;
  const maxConcurrency = limits.maxConcurrency;
  const requestTimeout = timeouts.request ?? 300_000;
  // node refuses a head timeout longer than the whole request's.
  const headersTimeout = requestTimeout > 0 ? Math.min(timeouts.headers ?? 30_000, requestTimeout) : (timeouts.headers ?? 30_000);
  const writeTimeout = timeouts.write ?? 60_000;
  const trust = options.proxyHeaders === true ? new ProxyTrust(options.forwardedAllowIps ?? ['127.0.0.1']) : undefined;
  const wrapped = validate(app, options.validate === undefined ? {} : { enabled: options.validate });
  const cycleOptions: CycleOptions = { maxBodySize, logger, writeTimeout };

  const lifespan = new Lifespan(wrapped, options.lifespan ?? 'auto', logger);
  await lifespan.startup();

  const context = {
    scheme: 'http' as const,
    rootPath: options.rootPath ?? '',
    state: lifespan.state,
    extensions: EXTENSIONS,
    ...(options.path !== undefined ? { socketPath: options.path } : {}),
  };
  // The requests whose app call is still running: their count for the concurrency limit and for
  // shutdown, and their request lines for what shutdown reports.
  const running = new RunningCalls<RequestResponseCycle>();
  let idle: (() => void) | undefined;

  /** One request: run the app, and answer for it when it fails or leaves its response unfinished. */
  async function run(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cycle = new RequestResponseCycle(req, res, cycleOptions);
    running.add(cycle);
    try {
      await wrapped(requestScope(req), cycle.receive, cycle.send);
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
      cycle.fail();
    } finally {
      running.delete(cycle);
      if (running.size === 0) idle?.();
    }
  }

  /**
   * The HTTP scope of a request, an upgrade's included: behind a trusted proxy, the client and
   * scheme its headers name.
   */
  function requestScope(req: IncomingMessage): HTTPScope {
    const scope = httpScope(req, context);
    if (trust !== undefined) {
      const forwarded = forwardedFrom(req.socket.remoteAddress, req.headers, trust, options.path !== undefined);
      if (forwarded.client !== undefined) scope.client = forwarded.client;
      if (forwarded.scheme !== undefined) scope.scheme = forwarded.scheme;
    }
    return scope;
  }

  /**
   * The status a request is refused with before its app is called, or 0: the same limits for a
   * plain request and a WebSocket upgrade. App calls in flight count both kinds.
   */
  function refusal(req: IncomingMessage): number {
    // node keeps at most maxHeadersCount headers and drops the rest without a word (upgrades
    // included): it is set one past the limit, so a request over it shows here.
    if (req.rawHeaders.length > maxHeaders * 2) return 431;
    if (maxBodySize !== undefined) {
      const declared = req.headers['content-length'];
      if (declared !== undefined && Number(declared) > maxBodySize) return 413;
    }
    if (maxConcurrency !== undefined && running.size + webSockets.size >= maxConcurrency) return 503;
    return 0;
  }

  /** What the server refuses before the app is called; the rest goes to `run`. */
  function handle(req: IncomingMessage, res: ServerResponse): void {
    const status = refusal(req);
    if (status !== 0) return refuse(res, status);
    void run(req, res);
  }

  const server = createServer({
    maxHeaderSize: limits.maxHeaderSize ?? 16 * 1024,
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: timeouts.keepAlive ?? 5_000,
    // How often node looks for requests past their timeouts (its default, 30 s, is coarser than
    // the timeouts themselves).
    connectionsCheckingInterval: Math.max(10, Math.min(headersTimeout || requestTimeout || 30_000, 30_000) / 4),
  }, handle);
  server.maxHeadersCount = maxHeaders + 1;
  // Open HTTP connections, for shutdown: node's closeIdleConnections() also cuts one whose
  // response has ended but not yet reached a slow client, and this server must not.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    watchConnection(socket);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A connection that never sends a request is cut like a stuck one (node would arm this
    // itself with server.timeout set, see below).
    if (writeTimeout > 0) socket.setTimeout(writeTimeout);
  });
  server.on('clientError', onClientError);
  // The cycle answers 100-continue itself, when the app first asks for the body.
  server.on('checkContinue', handle);
  const webSockets = new WebSocketUpgrades(wrapped, { context, scope: requestScope, refusal, logger, maxMessage: limits.maxWebSocketMessage, pingInterval: timeouts.webSocketPing });
  server.on('upgrade', webSockets.handle);
  // An upgraded socket is the WebSocket side's to close (with 1012), not an idle HTTP connection.
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => sockets.delete(socket));
  // An inactive connection: node's keep-alive timeout, or this server's write timeout. With a
  // listener here node leaves the decision to us: idle connections and writes stuck on a client
  // that reads nothing are cut; an app still working on its response is left alone. The write
  // timeout is armed by the cycle only when a write is held up (server.timeout stays 0): set on
  // the server, node would re-arm a timer on every request and refresh it on every read and
  // write, a few per cent of the CPU a small request costs (bench/http profile).
  server.on('timeout', (socket: Socket & { _httpMessage?: unknown }) => {
    if (socket._httpMessage == null || socket.writableLength > 0) socket.destroy();
  });

  if (options.path !== undefined) removeStaleSocket(options.path);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const listening = () => {
        server.off('error', reject);
        resolve();
      };
      if (options.path !== undefined) server.listen(options.path, listening);
      else server.listen(options.port ?? 8000, host, listening);
    });
  } catch (error) {
    await lifespan.shutdown();
    throw error;
  }
  const port = options.path !== undefined ? 0 : (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    logger.info(`${signal}: shutting down`);
    // serve owns the signals, so it owns the exit: timers or sockets the app left open must not
    // keep a process that has shut down alive.
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', error);
        process.exit(1);
      },
    );
  };

  /** Closes every connection with no response in flight and nothing left to write. */
  function closeQuietConnections(): void {
    for (const socket of sockets) {
      // node sets _httpMessage while a response is outstanding and clears it once the last byte
      // has been handed to the kernel.
      if (socket.writableLength === 0 && (socket as Socket & { _httpMessage?: unknown })._httpMessage == null) socket.destroy();
    }
  }

  /**
   * Resolves once every connection has closed (`stopped`), or after `ms`. An app that returned
   * may have left its response on its way out through a slow client: such a connection is closed
   * only once it is quiet, which node reports to no one, so it is looked at again every few ms.
   */
  async function drained(stopped: Promise<void>, ms: number): Promise<void> {
    if (ms <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    const poll = setInterval(closeQuietConnections, 25);
    await Promise.race([stopped, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
    clearInterval(poll);
    clearTimeout(timer);
  }

  /** Resolves once no app call is running, or after `ms`. */
  async function settled(ms: number): Promise<void> {
    if (running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => { idle = resolve; }),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); }),
    ]);
    clearTimeout(timer);
    idle = undefined;
  }

  function close(): Promise<void> {
    return (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      closeQuietConnections();
      const webSocketsClosed = webSockets.shutdown(gracePeriod); // 1012 to each, then its app's return
      const graceEnds = Date.now() + gracePeriod;
      await settled(gracePeriod);
      if (running.size > 0) logger.warn(`${running.size} request(s) still running after the ${gracePeriod} ms grace period; closing their connections`);
      else await drained(stopped, graceEnds - Date.now());
      // Apps cannot be cancelled: one still running is now told the client is gone (receive()
      // answers http.disconnect, send() raises) and gets a short while to return.
      server.closeAllConnections();
      await webSocketsClosed;
      await stopped;
      await settled(SHUTDOWN_STRAGGLERS);
      if (running.size > 0) {
        const lines = running.list().map((cycle) => requestLine(cycle.req)).join(', ');
        logger.warn(`lifespan shutdown with ${running.size} app call(s) still running: ${lines}`);
      }
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
  return { url: serverUrl(host, port, options.path), port, close, server };
}

/** How long lifespan shutdown waits, past the grace period, for apps told their clients left. */
const SHUTDOWN_STRAGGLERS = 2_000;
