/**
 * `baseHTTPMiddleware(app, dispatch)`: middleware written as `dispatch(request, callNext)`, with
 * the semantics Starlette reached in PR #1715. The downstream app is never abandoned: once the
 * response is sent, its `receive()` answers `http.disconnect` and its `send()` returns at once,
 * so it runs to the end (its `finally` blocks, its background tasks), and the middleware
 * resolves only after it has. How its messages reach the client is `Downstream`'s business.
 */
import type { Request } from '../http/request.js';
import { Response } from '../http/response.js';
import type { ASGIApp } from '../protocol.js';
import { CachedRequest } from './cached-request.js';
import { Downstream } from './downstream.js';

export type CallNext = (request: Request) => Promise<Response>;
export type Dispatch = (request: Request, callNext: CallNext) => Promise<Response>;

/**
 * Wraps `app` in `dispatch`. `callNext(request)` runs `app` and resolves, once `app` has sent
 * `http.response.start`, to its response, whose body streams from `app` as it is read. Scopes
 * other than `http` go straight to `app`.
 */
export function baseHTTPMiddleware(app: ASGIApp, dispatch: Dispatch): ASGIApp {
  return async function middleware(scope, receive, send): Promise<void> {
    if (scope.type !== 'http') return app(scope, receive, send);
    const request = new CachedRequest(scope, receive);
    const downstream = new Downstream(app, scope, request, send);

    let response: Response;
    try {
      response = await dispatch(request, downstream.callNext);
      if (!(response instanceof Response)) {
        throw new TypeError(`dispatch must return a Response (got ${response === null ? 'null' : typeof response}); did it forget to return callNext's result?`);
      }
    } catch (error) {
      // Release the downstream and wait for it: no work is left behind as a dangling promise.
      downstream.responseDone();
      await downstream.done;
      throw error;
    }

    if (downstream.takes(response)) {
      // callNext's response, returned as it was: its messages are on their way by themselves.
      try {
        await downstream.running;
      } catch {
        // Recorded by the downstream's own run, which saw it first; passed() reports it.
      }
      downstream.passed();
      return;
    }
    try {
      await response.respond(scope, request.replay, send);
    } finally {
      // Whatever happened (sent, or the client went away), release the downstream and wait for it.
      downstream.responseDone();
      await downstream.done;
    }
    if (downstream.failed && !downstream.errorSeen) throw downstream.error;
  };
}
