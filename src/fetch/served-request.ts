/**
 * The `Request` `fromFetchHandler` hands a fetch handler, with its `signal` made only when read.
 *
 * A request built with `{ signal }` makes undici (Node's fetch) follow that signal with a WeakRef,
 * a FinalizationRegistry entry and an abort listener: some 20 µs a request, three times the rest
 * of the constructor, for a signal most handlers never read. So the request is a real `Request`
 * (a subclass: `instanceof`, brand checks, `new Request(request)`, `fetch(request)` and
 * `clone()` all work as on any other) built without a signal, whose signal slot is an accessor
 * that makes an `AbortController` on first read, already aborted if the client has gone by then.
 * Undici reads that slot for `request.signal` and when it copies the request (`new Request(r)`,
 * `fetch(r)`, `r.clone()`), so the copies follow the client too.
 *
 * The slot is undici's own (a symbol described `signal`), found and checked once at load; where
 * the check fails (another runtime, a future undici that keeps it elsewhere), requests are built
 * the plain way, with an eager signal, and behave the same, only slower.
 */

const CONTROLLER = Symbol('tsgi.signalController');
const GONE = Symbol('tsgi.goneReason');

interface Tracked {
  [CONTROLLER]?: AbortController;
  [GONE]?: { reason: unknown };
}

function lazyController(request: Tracked): AbortController {
  let controller = request[CONTROLLER];
  if (controller === undefined) {
    controller = request[CONTROLLER] = new AbortController();
    const gone = request[GONE];
    if (gone !== undefined) controller.abort(gone.reason);
  }
  return controller;
}

/** Undici's signal slot on a `Request`, if it has one. */
function signalSlot(): symbol | undefined {
  try {
    const probe = new Request('http://probe.invalid/');
    const record = probe as unknown as Record<symbol, unknown>;
    return Object.getOwnPropertySymbols(probe).find((s) => s.description === 'signal' && record[s] === probe.signal);
  } catch {
    return undefined;
  }
}

const SLOT = signalSlot();

class LazySignalRequest extends Request {}
const plainClone = Request.prototype.clone;
/**
 * Undici's `clone()` aborts a clone only from inside its own signal-following; this signal
 * follows no other, so the clone is rebuilt from a plain clone (which tees the body) with this
 * signal to follow. (Set on the prototype: Node's types declare `clone` a property.)
 */
Object.defineProperty(LazySignalRequest.prototype, 'clone', {
  value: function clone(this: Request): Request {
    return new Request(plainClone.call(this), { signal: this.signal });
  },
  writable: true,
  configurable: true,
});
if (SLOT !== undefined) {
  Object.defineProperty(LazySignalRequest.prototype, SLOT, {
    get(this: Tracked) {
      return lazyController(this).signal;
    },
    // The constructor stores the signal of a controller nobody holds (no signal was passed, so
    // nothing can abort it): dropped, the accessor stands in for it.
    set() {},
    configurable: true,
  });
}

/** Whether the lazy signal works here: not made while building, made on read, followed by copies and clones. */
function lazySignalWorks(): boolean {
  if (SLOT === undefined) return false;
  try {
    const probe = new LazySignalRequest('http://probe.invalid/') as Request & Tracked;
    if (probe[CONTROLLER] !== undefined) return false;
    const signal = probe.signal;
    const controller = (probe as Tracked)[CONTROLLER];
    if (controller === undefined || signal !== controller.signal) return false;
    const copy = new Request(probe);
    const clone = probe.clone();
    controller.abort();
    return copy.signal.aborted && clone.signal.aborted && probe.signal.aborted;
  } catch {
    return false;
  }
}

const LAZY = lazySignalWorks();

/*
 * Deferred: most handlers read only `url` and `method` (a router), so the undici `Request` itself
 * (URL record, header list, body, its own AbortController: some 7 µs) is built only when anything
 * else is touched. The object the handler gets inherits from `Request.prototype`, answers `url`
 * and `method` itself, and answers undici's own slots (a symbol each) from the request built on
 * first need: undici's getters and methods, `new Request(request)`, `fetch(request)` and
 * `clone()` read those slots, so they all see a real request. Checked once at load; where the
 * check fails, requests are built at once.
 */

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

const DEFER = deferredWorks();

/**
 * A `Request` for a fetch handler, from the URL, method and headers as string pairs, and a body;
 * throws a TypeError where the `Request` constructor would.
 */
export function servedRequest(url: string, init: RequestInit & { method: string; headers: [string, string][] }): Request {
  if (DEFER) {
    const { url: href, method } = checked(url, init.method, init.headers);
    return deferred(href, method, init);
  }
  if (LAZY) return new LazySignalRequest(url, init);
  const controller = new AbortController();
  init.signal = controller.signal;
  const request = new Request(url, init) as Request & Tracked;
  request[CONTROLLER] = controller;
  return request;
}

/** Aborts the request's signal, now if it has been made, else as soon as it is read. */
export function abortServed(request: Request, reason: unknown): void {
  const tracked = request as Request & Tracked;
  const controller = tracked[CONTROLLER];
  if (controller !== undefined) {
    if (!controller.signal.aborted) controller.abort(reason);
  } else if (tracked[GONE] === undefined) {
    tracked[GONE] = { reason };
  }
}

/** Whether the signal is made only when read, and the request built only when needed (for tests). */
export const lazySignal: boolean = LAZY;
export const deferredRequest: boolean = DEFER;
