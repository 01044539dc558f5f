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
import { abortServed, CONTROLLER, LAZY, LazySignalRequest, lazyController, SLOT, type Tracked } from './lazy-signal.js';

const URL_KEY = Symbol('tsgi.url');
const METHOD_KEY = Symbol('tsgi.method');
const INIT_KEY = Symbol('tsgi.init');
const BUILT_KEY = Symbol('tsgi.built');

interface Deferred extends Tracked {
  [URL_KEY]: string;
  [METHOD_KEY]: string;
  [INIT_KEY]: RequestInit | undefined;
  [BUILT_KEY]?: Request;
}

/** The real request behind a deferred one, built on first need, sharing its signal. */
function built(deferred: Deferred): Request {
  let request = deferred[BUILT_KEY];
  if (request === undefined) {
    request = new LazySignalRequest(deferred[URL_KEY], deferred[INIT_KEY]!);
    (request as Tracked)[CONTROLLER] = lazyController(deferred);
    deferred[BUILT_KEY] = request;
    deferred[INIT_KEY] = undefined;
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

function deferred(url: string, method: string, init: RequestInit): Request {
  const request = Object.create(DEFERRED_PROTOTYPE!) as Deferred;
  request[URL_KEY] = url;
  request[METHOD_KEY] = method;
  request[INIT_KEY] = init;
  return request as unknown as Request;
}

/** Whether a deferred request passes for a real one here: reads, copies, clones, signals. */
function deferredWorks(): boolean {
  if (DEFERRED_PROTOTYPE === undefined) return false;
  try {
    const probe = deferred('http://probe.invalid/p', 'POST', { method: 'POST', headers: [['x-a', '1']], body: new Uint8Array([1]) });
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

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n]/;
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

/**
 * What the `Request` constructor would refuse or change, checked up front for a deferred request
 * (built later, it must not fail then): the method, the URL, each header.
 */
function checked(url: string, method: string, headers: readonly (readonly [string, string])[]): { url: string; method: string } {
  if (!TOKEN.test(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
  const upper = method.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) throw new TypeError(`'${method}' HTTP method is unsupported.`);
  const parsed = new URL(url);
  if (parsed.username !== '' || parsed.password !== '') throw new TypeError(`Request cannot be constructed from a URL that includes credentials: ${url}`);
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    if (!TOKEN.test(name)) throw new TypeError(`Headers.append: "${name}" is an invalid header name.`);
    // The constructor trims leading and trailing whitespace (CR and LF among it) before it checks.
    if (BAD_VALUE.test(value) && BAD_VALUE.test(value.replace(EDGE_WHITESPACE, ''))) throw new TypeError(`Headers.append: "${value}" is an invalid header value.`);
  }
  return { url: parsed.href, method: NORMALIZED_METHODS.has(upper) ? upper : method };
}

/** Whether deferred requests work here (checked once, at load). */
export const DEFER = deferredWorks();

/** A deferred request; throws a TypeError where the `Request` constructor would. */
export function deferredRequest(url: string, init: RequestInit & { method: string; headers: [string, string][] }): Request {
  const { url: href, method } = checked(url, init.method, init.headers);
  return deferred(href, method, init);
}
