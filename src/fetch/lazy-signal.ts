/**
 * A `Request` whose `signal` is made only when read, for `fromFetchHandler`.
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

export const CONTROLLER = Symbol('tsgi.signalController');
const GONE = Symbol('tsgi.goneReason');

export interface Tracked {
  [CONTROLLER]?: AbortController;
  [GONE]?: { reason: unknown };
}

export function lazyController(request: Tracked): AbortController {
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

/** Undici's signal slot, left to the lazy accessor by requests that defer more (deferred-request.ts). */
export const SLOT = signalSlot();

export class LazySignalRequest extends Request {}
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

/** Whether the lazy signal works here (checked once, at load). */
export const LAZY = lazySignalWorks();


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
