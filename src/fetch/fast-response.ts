/**
 * `FastResponse`: a `Response` that keeps a body given whole (a string, bytes, or none) and a
 * plain init as they were, so that `fromFetchHandler` sends them without the native object.
 *
 * Undici (Node's fetch) wraps every body in a byte `ReadableStream` when the `Response` is
 * built, even a string given whole, and on Node 20 making that stream transferable is most of
 * the cost: some 10 µs, more than the rest of a small request through `serve`. A handler that
 * returns `c.text('…')` never reads that stream. So this class answers `status`, `ok`,
 * `statusText` and `headers` itself and builds the native response only when anything else is
 * touched (`body`, `text()`, `clone()`, …). It inherits from `Response.prototype`, passes
 * `instanceof Response` both ways, and answers undici's own slots (a symbol each) from the native
 * response built on first need, so undici's getters and methods, `new Response(r.body)` and
 * `cache.put` see a real one. The slots are found and checked once at load; where that check fails
 * (another runtime, a future undici), every `FastResponse` builds its native response at once and
 * behaves as the native class.
 *
 * What the native constructor would refuse (a status out of range, a body on a 204, a bad header
 * or status text) is never held back: anything not plainly valid is handed to it at once, so it
 * throws where it would have.
 *
 * This is what @hono/node-server does to the global `Response` by default, and srvx offers as its
 * own `FastResponse`. `fromFetchHandler(handler, { overrideGlobalResponse: true })` installs it as
 * the global, so that fetch handlers (Hono's `c.text()`, `c.json()`) build it without knowing.
 */

import { TOKEN } from '../http/token.js';

const NativeResponse: typeof Response = globalThis.Response;
const NativeHeaders: typeof Headers = globalThis.Headers;

const BODY = Symbol('tsgi.body');
const STATUS = Symbol('tsgi.status');
const INIT_HEADERS = Symbol('tsgi.initHeaders');
const HEADERS = Symbol('tsgi.headers');
const NATIVE = Symbol('tsgi.native');

/** A plain header record: every name a token (no two the same but for case), every value one that needs no trimming. */
type PlainHeaders = Record<string, string>;

interface Light {
  [BODY]: string | Uint8Array | null;
  [STATUS]: number;
  [INIT_HEADERS]: PlainHeaders | undefined;
  /** The `Headers` handed out by `headers`, built on first read (or copied from the init). */
  [HEADERS]: Headers | undefined;
  /** The native response, once anything needs it; built at once when the init is not plain. */
  [NATIVE]: Response | undefined;
}

/** undici's default for a string body. */
const TEXT_PLAIN = 'text/plain;charset=UTF-8';
const UPPER = /[A-Z]/;
/** A value the `Headers` class would trim (HTTP whitespace at an end) or refuse (NUL, CR, LF, past latin-1). */
const UNPLAIN_VALUE = /^[\t\n\r ]|[\t\n\r ]$|[\0\r\n]|[^\0-\xff]/;

function plainHeaders(headers: unknown): headers is PlainHeaders {
  if (typeof headers !== 'object' || headers === null) return false;
  const prototype = Object.getPrototypeOf(headers) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return false;
  let mixedCase = false;
  let count = 0;
  for (const name in headers) {
    count += 1;
    const value = (headers as Record<string, unknown>)[name];
    if (typeof value !== 'string' || !TOKEN.test(name) || UNPLAIN_VALUE.test(value)) return false;
    if (!mixedCase && UPPER.test(name)) mixedCase = true;
  }
  // Names that differ only in case are one header to `Headers`, which joins their values.
  if (mixedCase && count > 1) {
    const names = Object.keys(headers).map((name) => name.toLowerCase());
    if (new Set(names).size !== names.length) return false;
  }
  return true;
}

/** The native response, built on first need from what was kept. */
function native(light: Light): Response {
  let response = light[NATIVE];
  if (response === undefined) {
    const headers = light[HEADERS] ?? light[INIT_HEADERS];
    response = new NativeResponse(light[BODY], headers === undefined ? { status: light[STATUS] } : { status: light[STATUS], headers });
    light[NATIVE] = response;
  }
  return response;
}

/** undici's own slots on a response (its state, its headers), if they can be found. */
function nativeSlots(): symbol[] | undefined {
  try {
    const probe = new NativeResponse('probe');
    const slots = Object.getOwnPropertySymbols(probe);
    return slots.length > 0 ? slots : undefined;
  } catch {
    return undefined;
  }
}

const SLOTS = nativeSlots();

class FastResponseClass {
  declare [BODY]: string | Uint8Array | null;
  declare [STATUS]: number;
  declare [INIT_HEADERS]: PlainHeaders | undefined;
  declare [HEADERS]: Headers | undefined;
  declare [NATIVE]: Response | undefined;

  static [Symbol.hasInstance](value: unknown): boolean {
    // A native response is a FastResponse too, as a FastResponse is a native one: either may
    // stand for the global `Response`.
    if (this === FastResponseClass) return value instanceof NativeResponse;
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  constructor(body?: ConstructorParameters<typeof Response>[0], init?: ResponseInit) {
    const kept = body ?? null;
    this[HEADERS] = undefined;
    this[INIT_HEADERS] = undefined;
    this[NATIVE] = undefined;
    this[BODY] = null;
    this[STATUS] = 200;
    if (FAST && (kept === null || typeof kept === 'string' || kept instanceof Uint8Array) && init === undefined) {
      this[BODY] = kept;
      return;
    }
    if (FAST && (kept === null || typeof kept === 'string' || kept instanceof Uint8Array) && typeof init === 'object' && init !== null && init.statusText === undefined) {
      const status = init.status ?? 200;
      const headers = init.headers;
      const statusPlain = Number.isInteger(status) && status >= 200 && status <= 599 && (kept === null || (status !== 204 && status !== 205 && status !== 304));
      if (statusPlain && (headers === undefined || headers instanceof NativeHeaders || plainHeaders(headers))) {
        this[BODY] = kept;
        this[STATUS] = status;
        // A Headers object is copied, as the native constructor copies it: later changes to it
        // are not this response's.
        if (headers instanceof NativeHeaders) {
          const copy = new NativeHeaders(headers);
          if (typeof kept === 'string' && !copy.has('content-type')) copy.set('content-type', TEXT_PLAIN);
          this[HEADERS] = copy;
        } else {
          this[INIT_HEADERS] = headers;
        }
        return;
      }
    }
    this[NATIVE] = new NativeResponse(body, init);
  }

  get status(): number {
    const response = this[NATIVE];
    return response === undefined ? this[STATUS] : response.status;
  }

  get ok(): boolean {
    const status = this.status;
    return status >= 200 && status <= 299;
  }

  get statusText(): string {
    const response = this[NATIVE];
    return response === undefined ? '' : response.statusText;
  }

  get headers(): Headers {
    let headers = this[HEADERS];
    if (headers !== undefined) return headers;
    const response = this[NATIVE];
    if (response !== undefined) return response.headers;
    headers = new NativeHeaders(this[INIT_HEADERS]);
    if (typeof this[BODY] === 'string' && !headers.has('content-type')) headers.set('content-type', TEXT_PLAIN);
    this[HEADERS] = headers;
    return headers;
  }
}

Object.setPrototypeOf(FastResponseClass, NativeResponse);
Object.setPrototypeOf(FastResponseClass.prototype, NativeResponse.prototype);
if (SLOTS !== undefined) {
  for (const slot of SLOTS) {
    Object.defineProperty(FastResponseClass.prototype, slot, {
      get(this: Light) {
        return (native(this) as unknown as Record<symbol, unknown>)[slot];
      },
      configurable: true,
    });
  }
}

/** Whether a FastResponse passes for a native one here: read, copied, cloned, refused alike. */
function fastWorks(): boolean {
  if (SLOTS === undefined) return false;
  try {
    FAST = true;
    const probe = new FastResponseClass('probe', { status: 201, headers: { 'x-a': '1' } }) as unknown as Response & Light;
    if (probe[NATIVE] !== undefined || !(probe instanceof NativeResponse) || probe.status !== 201 || probe.headers.get('x-a') !== '1') return false;
    const copy = new NativeResponse(probe.body, probe);
    const clone = probe.clone();
    return probe[NATIVE] !== undefined && copy.status === 201 && clone.headers.get('content-type') === TEXT_PLAIN && !probe.bodyUsed;
  } catch {
    return false;
  } finally {
    FAST = false;
  }
}

let FAST = false;
FAST = fastWorks();

/** A `Response` that defers the native object until something needs more than status and headers. */
export const FastResponse: typeof Response = FastResponseClass as unknown as typeof Response;

/** Whether FastResponse defers here (checked once, at load; for tests). */
export const fastResponseDefers: boolean = FAST;

/** What `fromFetchHandler` sends for a response still kept light; undefined for any other. */
export interface LightParts {
  status: number;
  /** A plain record to send as it is, or the `Headers` handed out. */
  headers: PlainHeaders | Headers | undefined;
  body: string | Uint8Array | null;
}

export function lightParts(response: Response): LightParts | undefined {
  const light = response as unknown as Partial<Light>;
  if (!(NATIVE in light) || light[NATIVE] !== undefined) return undefined;
  return { status: light[STATUS]!, headers: light[HEADERS] ?? light[INIT_HEADERS], body: light[BODY]! };
}

/** Makes `FastResponse` the global `Response` (what `overrideGlobalResponse` asks for). */
export function installFastResponse(): void {
  if (globalThis.Response === FastResponse || !FAST) return;
  Object.defineProperty(globalThis, 'Response', { value: FastResponse, writable: true, configurable: true, enumerable: false });
}
