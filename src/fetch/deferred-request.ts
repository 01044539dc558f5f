/**
 * A `Request` built only when needed, for `fromFetchHandler`. Most handlers read only `url` and
 * `method` (a router), so the undici `Request` itself (URL record, header list, body, its own
 * AbortController: some 7 µs) is built only when anything else is touched. The object the handler
 * gets inherits from `Request.prototype`, answers `url` and `method` itself, and answers undici's
 * own slots (a symbol each) from the request built on first need: undici's getters and methods,
 * `new Request(request)`, `fetch(request)` and `clone()` read those slots, so they all see a real
 * request. Checked once at load; where the check fails, requests are built at once.
 *
 * Built later, it must not fail then: what the `Request` constructor refuses (the method, the URL,
 * a header) is checked up front, with the constructor's own rules.
 */
import type { Header } from '../../generated/index.js';
import { abortServed, CONTROLLER, LAZY, LazySignalRequest, lazyController, SLOT, type Tracked } from './lazy-signal.js';
import { headerPairs } from './request-headers.js';
import { TOKEN } from '../http/token.js';

const URL_KEY = Symbol('tsgi.url');
const METHOD_KEY = Symbol('tsgi.method');
const INIT_KEY = Symbol('tsgi.init');
const HEADERS_KEY = Symbol('tsgi.headers');
const BUILT_KEY = Symbol('tsgi.built');

interface Deferred extends Tracked {
  [URL_KEY]: string;
  [METHOD_KEY]: string;
  [INIT_KEY]: RequestInit | undefined;
  /**
   * The scope's headers, made string pairs only when the request is built, which may be late:
   * a server must not reuse the memory of a scope's bytes while its app runs (tsgi's never do).
   */
  [HEADERS_KEY]: readonly Header[] | undefined;
  [BUILT_KEY]?: Request;
}

/** The real request behind a deferred one, built on first need, sharing its signal. */
function built(deferred: Deferred): Request {
  let request = deferred[BUILT_KEY];
  if (request === undefined) {
    const init = deferred[INIT_KEY]!;
    init.method = deferred[METHOD_KEY];
    init.headers = headerPairs(deferred[HEADERS_KEY]!);
    request = new LazySignalRequest(deferred[URL_KEY], init);
    (request as Tracked)[CONTROLLER] = lazyController(deferred);
    deferred[BUILT_KEY] = request;
    deferred[INIT_KEY] = undefined;
    deferred[HEADERS_KEY] = undefined;
  }
  return request;
}

function deferredPrototype(): object | undefined {
  if (!LAZY) return undefined;
  const slots = Object.getOwnPropertySymbols(new Request('http://probe.invalid/'));
  const prototype = Object.create(LazySignalRequest.prototype) as object;
  for (const slot of slots) {
    if (slot === SLOT) continue; // the lazy signal accessor, inherited, works on this object too
    Object.defineProperty(prototype, slot, {
      get(this: Deferred) {
        return (built(this) as unknown as Record<symbol, unknown>)[slot];
      },
      configurable: true,
    });
  }
  Object.defineProperty(prototype, 'url', { get(this: Deferred) { return this[URL_KEY]; }, configurable: true });
  Object.defineProperty(prototype, 'method', { get(this: Deferred) { return this[METHOD_KEY]; }, configurable: true });
  return prototype;
}

const DEFERRED_PROTOTYPE = deferredPrototype();

function deferred(url: string, method: string, headers: readonly Header[], init: RequestInit): Request {
  const request = Object.create(DEFERRED_PROTOTYPE!) as Deferred;
  request[URL_KEY] = url;
  request[METHOD_KEY] = method;
  request[INIT_KEY] = init;
  request[HEADERS_KEY] = headers;
  return request as unknown as Request;
}

/** Whether a deferred request passes for a real one here: reads, copies, clones, signals. */
function deferredWorks(): boolean {
  if (DEFERRED_PROTOTYPE === undefined) return false;
  try {
    const enc = new TextEncoder();
    const probe = deferred('http://probe.invalid/p', 'POST', [[enc.encode('x-a'), enc.encode('1')]], { body: new Uint8Array([1]) });
    if (!(probe instanceof Request) || (probe as unknown as Deferred)[BUILT_KEY] !== undefined) return false;
    if (probe.headers.get('x-a') !== '1' || probe.bodyUsed || probe.url !== 'http://probe.invalid/p') return false;
    const copy = new Request(probe);
    const clone = new Request(copy).clone();
    abortServed(probe, new Error('probe'));
    return copy.signal.aborted && clone.signal.aborted && probe.signal.aborted && probe.bodyUsed && copy.method === 'POST';
  } catch {
    return false;
  }
}

const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

/**
 * A URL the URL parser gives back unchanged: an origin with a lowercase host that is no IPv4
 * address in another spelling and no punycode, and no default or zero-padded port; then a path
 * and query of characters it does not escape, without dot segments. Anything else goes through
 * `new URL`. The origin is the same from one request to the next, so the last plain one is kept.
 */
const PLAIN_ORIGIN = /^(http|https):\/\/(?:(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*|(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))(?::([1-9][0-9]{0,4}))?$/;
const PLAIN_TARGET = /^(?:\/[A-Za-z0-9\-._~!$&()*+,;=:@%]*)+(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*)?$/;
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?:[/?]|$)/i;
let plainOrigin = '';

function isPlainOrigin(origin: string): boolean {
  if (origin === plainOrigin) return true;
  const match = PLAIN_ORIGIN.exec(origin);
  if (match === null || origin.includes('xn--')) return false;
  const port = match[2];
  if (port !== undefined) {
    const number = Number(port);
    if (number > 65535 || number === (match[1] === 'http' ? 80 : 443)) return false;
  }
  plainOrigin = origin;
  return true;
}

/** The URL of `origin` (scheme and authority) and `target` as the `Request` constructor would hold it; throws where it would. */
function normalizedUrl(origin: string, target: string): string {
  if (isPlainOrigin(origin) && PLAIN_TARGET.test(target) && ((!target.includes('/.') && !target.includes('%2')) || !DOT_SEGMENT.test(target))) return origin + target;
  const url = origin + target;
  const parsed = new URL(url);
  if (parsed.username !== '' || parsed.password !== '') throw new TypeError(`Request cannot be constructed from a URL that includes credentials: ${url}`);
  return parsed.href;
}

/**
 * What the `Request` constructor would refuse or change in the method and URL, checked up front
 * for a deferred request (built later, it must not fail then). The headers are checked by
 * `scanRequestHeaders`.
 */
function checkedMethod(method: string): string {
  switch (method) {
    case 'GET': case 'POST': case 'PUT': case 'DELETE': case 'HEAD': case 'OPTIONS': case 'PATCH':
      return method;
  }
  if (!TOKEN.test(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
  const upper = method.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) throw new TypeError(`'${method}' HTTP method is unsupported.`);
  return NORMALIZED_METHODS.has(upper) ? upper : method;
}

/** Whether deferred requests work here (checked once, at load). */
export const DEFER = deferredWorks();

/**
 * A deferred request; throws a TypeError where the `Request` constructor would. Its headers must
 * have passed `scanRequestHeaders`.
 */
export function deferredRequest(origin: string, target: string, method: string, headers: readonly Header[], init: RequestInit): Request {
  return deferred(normalizedUrl(origin, target), checkedMethod(method), headers, init);
}
