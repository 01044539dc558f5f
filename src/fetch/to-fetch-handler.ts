/**
 * `toFetchHandler(app)`: an ASGI app as a fetch handler, `(request, info?) => Promise<Response>`,
 * which Bun, Deno, Cloudflare Workers, srvx and @hono/node-server all serve.
 */
import { ClientDisconnect } from '../http/request.js';
import type { ASGIApp } from '../protocol.js';
import { callApp } from '../server/call-app.js';
import { Lifespan, type LifespanMode } from '../server/lifespan.js';
import { consoleLogger, type Logger } from '../server/logger.js';
import { validate } from '../validate/middleware.js';
import { nodeRawHeaders, runtimeClient, type Address } from './connection.js';
import { FetchExchange, type ResponseClass } from './exchange.js';
import { fetchScope, type ScopeContext } from './scope.js';

/** The same as `Logger`; the name stays for existing code. */
export type FetchLogger = Logger;

export interface ToFetchHandlerOptions {
  /** The path the app is mounted under, for `scope.root_path`. Default `''`. */
  rootPath?: string;
  /** Wrap the app in `validate`. Default: on unless `NODE_ENV` is `production`. */
  validate?: boolean;
  /** `auto` (default) runs lifespan if the app speaks it; `on` requires it; `off` skips it. */
  lifespan?: LifespanMode;
  /**
   * `scope.client` for a request, given the request and the runtime's second argument (Deno's
   * `info`, Bun's `server`, a Worker's `env`). Default: read from what Deno, Bun, srvx and
   * @hono/node-server pass; null elsewhere.
   */
  client?: (request: Request, info: unknown) => Address | null;
  /** Where errors and notices go. Default: the console. */
  logger?: Logger;
  /**
   * The class the app's responses are built with. Default: the global `Response` at the time
   * (@hono/node-server replaces it with its own lighter one unless told not to). A runtime's
   * own lighter class can go here: on Node, undici's `Response` wraps even a body given whole in
   * a stream, which the server then reads back, while srvx's `FastResponse` keeps the bytes and
   * srvx writes them out directly. Such a class checks less than the standard one (a header value
   * the fetch API refuses fails when the server writes it, not when it is built).
   */
  responseClass?: ResponseClass;
}

/**
 * What `toFetchHandler` returns: a plain object with `fetch`, the shape a Worker's and
 * `deno serve`'s default export has and `Bun.serve` takes; `Deno.serve(handler.fetch)` takes its
 * method. (Not a function: workerd reads a default-exported function as a class.)
 */
export interface FetchHandler {
  /** Answers one request; `info` is the runtime's second argument (Deno's info, Bun's server, a Worker's env). */
  fetch(request: Request, info?: unknown): Promise<Response>;
  /** Runs lifespan startup; rejects with `LifespanStartupError` if the app fails it. Run before
   * the first request if not called. */
  startup(): Promise<void>;
  /** Runs lifespan shutdown (after startup; otherwise nothing to do). */
  shutdown(): Promise<void>;
}

function requestLine(request: Request): string {
  return `"${request.method} ${request.url}"`;
}

function internalError(): Response {
  return new Response('Internal Server Error', { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

export function toFetchHandler(app: ASGIApp, options: ToFetchHandlerOptions = {}): FetchHandler {
  const logger = options.logger ?? consoleLogger;
  const wrapped = validate(app, options.validate === undefined ? {} : { enabled: options.validate });
  const lifespan = new Lifespan(wrapped, options.lifespan ?? 'auto', logger);
  const context: ScopeContext = { rootPath: options.rootPath ?? '', state: undefined };
  const clientOf = options.client ?? runtimeClient;
  const responseClass = options.responseClass;

  let startup: Promise<void> | undefined;
  let ready = false;
  let startupError: unknown;
  function start(): Promise<void> {
    return (startup ??= lifespan.startup().then(
      () => {
        context.state = lifespan.state;
        ready = true;
      },
      (error: unknown) => {
        startupError = error;
        throw error;
      },
    ));
  }

  async function lazyStart(request: Request, info: unknown): Promise<Response> {
    try {
      await start();
    } catch {
      // Not thrown at the runtime: every request answers 500 and the failure is logged once.
      if (startupError !== undefined) {
        logger.error('lifespan startup failed; answering 500', startupError);
        startupError = undefined;
      }
      return internalError();
    }
    return handle(request, info);
  }

  function handle(request: Request, info?: unknown): Promise<Response> {
    if (!ready) return lazyStart(request, info);
    const exchange = new FetchExchange(request, responseClass);
    let scope;
    try {
      scope = fetchScope(request, clientOf(request, info), nodeRawHeaders(request, info), context);
    } catch (error) {
      logger.error(`could not build the scope, ${requestLine(request)}`, error);
      return Promise.resolve(internalError());
    }
    callApp(wrapped, scope, exchange.receive, exchange.send).then(
      () => {
        if (exchange.disconnected) return exchange.ended(undefined);
        if (exchange.failure !== undefined) logger.error(`${exchange.failure.message}, ${requestLine(request)}`);
        else if (!exchange.started) logger.error(`ASGI application returned without starting a response, ${requestLine(request)}`);
        else if (!exchange.complete) logger.error(`ASGI application returned without completing its response, ${requestLine(request)}`);
        exchange.ended(undefined);
      },
      (error: unknown) => {
        if (!(error instanceof ClientDisconnect && exchange.disconnected)) {
          logger.error(`Exception in ASGI application, ${requestLine(request)}`, error);
        }
        exchange.ended(error);
      },
    );
    return exchange.response;
  }

  return {
    fetch: handle,
    startup: start,
    shutdown: () => (startup === undefined ? Promise.resolve() : startup.then(() => lifespan.shutdown(), () => undefined)),
  };
}
