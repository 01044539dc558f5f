/**
 * The `Request` `fromFetchHandler` hands a fetch handler: built only when the handler needs more
 * than `url` and `method` (deferred-request.ts), its `signal` made only when read
 * (lazy-signal.ts), or, where undici is not what these expect, a plain `Request` with a signal.
 */
import type { Header } from '../../generated/index.js';
import { DEFER, deferredRequest } from './deferred-request.js';
import { CONTROLLER, LAZY, LazySignalRequest, type Tracked } from './lazy-signal.js';
import { headerPairs } from './request-headers.js';

export { abortServed } from './lazy-signal.js';

/**
 * A `Request` for a fetch handler, from the URL (its origin, then its path and query), the method, the scope's headers (checked by
 * `scanRequestHeaders`) and the rest of the init (a body); throws a TypeError where the `Request`
 * constructor would.
 */
export function servedRequest(origin: string, target: string, method: string, headers: readonly Header[], init: RequestInit): Request {
  if (DEFER) return deferredRequest(origin, target, method, headers, init);
  const url = origin + target;
  init.method = method;
  init.headers = headerPairs(headers);
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
