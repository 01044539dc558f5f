/**
 * `baseHTTPMiddleware(app, dispatch)`: middleware written as `dispatch(request, callNext)`, with
 * the semantics Starlette reached in PR #1715. The downstream app is never abandoned: once the
 * response is sent, its `receive()` answers `http.disconnect` and its `send()` returns at once,
 * so it runs to the end (its `finally` blocks, its background tasks), and the middleware
 * resolves only after it has. How its messages reach the client is `Downstream`'s business.
 */
import type { Request } from '../http/request.js';
import type { Response } from '../http/response.js';
import type { ASGIApp } from '../protocol.js';
import { Downstream, LAYERS } from './downstream.js';

export type CallNext = (request: Request) => Promise<Response>;
export type Dispatch = (request: Request, callNext: CallNext) => Promise<Response>;

/**
 * Wraps `app` in `dispatch`. `callNext(request)` runs `app` and resolves, once `app` has sent
 * `http.response.start`, to its response, whose body streams from `app` as it is read. Scopes
 * other than `http` go straight to `app`.
 */
export function baseHTTPMiddleware(app: ASGIApp, dispatch: Dispatch): ASGIApp {
  const middleware: ASGIApp = function middleware(scope, receive, send): Promise<void> {
    if (scope.type === 'http') return new Downstream(app, scope, receive, send).run(dispatch);
    try {
      return Promise.resolve(app(scope, receive, send));
    } catch (error) {
      return Promise.reject(error);
    }
  };
  // A baseHTTPMiddleware directly above this one starts it itself, without a promise between.
  LAYERS.set(middleware, { app, dispatch });
  return middleware;
}
