/** Protocol facts several modules need: one definition each. */
import type { HTTPDisconnectEvent } from '../../generated/index.js';

/** The one `http.disconnect` message servers and wrappers hand out; frozen, so sharing it is safe. */
export const DISCONNECT: HTTPDisconnectEvent = Object.freeze({ type: 'http.disconnect' });

/** Whether a response with this status carries a body: not 1xx, 204 or 304 (RFC 9110, 6.4.1). */
export function statusHasBody(status: number): boolean {
  return status >= 200 && status !== 204 && status !== 304;
}

/**
 * What a `send` may return when it has taken the message at once. Any resolved promise means the
 * same; this one can be recognised: a baseHTTPMiddleware above such a send knows there is nothing
 * to wait for and no refusal to come, and goes on in the same turn.
 */
export const TAKEN: Promise<void> = Promise.resolve();
