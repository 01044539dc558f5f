/** Calling an app that may not be an `async` function. */
import type { Scope } from '../../generated/index.js';
import type { ASGIApp, Receive, Send } from '../protocol.js';

/**
 * `app(scope, receive, send)`, with a synchronous throw turned into a rejection: an app typed as
 * returning a promise may still be a plain function that throws before it returns one, and a
 * server must settle and log that call like any failed one.
 */
export function callApp(app: ASGIApp, scope: Scope, receive: Receive, send: Send): Promise<void> {
  try {
    return app(scope, receive, send);
  } catch (error) {
    return Promise.reject(error);
  }
}
