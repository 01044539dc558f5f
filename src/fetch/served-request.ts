/**
 * The `Request` `fromFetchHandler` hands a fetch handler: built only when the handler needs more
 * than `url` and `method` (deferred-request.ts), its `signal` made only when read
 * (lazy-signal.ts), or, where undici is not what these expect, a plain `Request` with a signal.
 */
import { DEFER, deferredRequest } from './deferred-request.js';
import { CONTROLLER, LAZY, LazySignalRequest, type Tracked } from './lazy-signal.js';

export { abortServed } from './lazy-signal.js';

/**
 * A `Request` for a fetch handler, from the URL, method and headers as string pairs, and a body;
 * throws a TypeError where the `Request` constructor would.
 */
export function servedRequest(url: string, init: RequestInit & { method: string; headers: [string, string][] }): Request {
  if (DEFER) return deferredRequest(url, init);
  if (LAZY) return new LazySignalRequest(url, init);
  const controller = new AbortController();
  init.signal = controller.signal;
  const request = new Request(url, init) as Request & Tracked;
  request[CONTROLLER] = controller;
  return request;
}

/** Whether the signal is made only when read, and the request built only when needed (for tests). */
export const lazySignal: boolean = LAZY;
export const deferred: boolean = DEFER;
