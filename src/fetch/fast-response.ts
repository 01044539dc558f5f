/**
 * `FastResponse`: a `Response` that keeps a body given whole (a string, bytes, or none) and a
 * plain init, so that `fromFetchHandler` sends them without the native object.
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
 * What it keeps, it keeps as the native constructor would: bytes are copied (a caller may reuse
 * its buffer), a header record is read once, own keys only, into a list of its own, a `Headers`
 * init is copied. What is not plainly valid (a status out of range, a body on a 204, a header name
 * or value `Headers` would refuse or trim, a status text, a shared or resizable buffer) is handed
 * to the native constructor at once, so it throws where it would have.
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

/**
 * A plain header record, read: name, value, name, value… Every name a token (no two the same but
 * for case), every value one that `Headers` would take as it is.
 */
type HeaderList = string[];

interface Light {
  [BODY]: string | Uint8Array | null;
  [STATUS]: number;
  [INIT_HEADERS]: HeaderList | undefined;
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

/** The record as a list, if it is a plain one; undefined if the native constructor must judge it. */
function plainHeaders(headers: unknown): HeaderList | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const prototype = Object.getPrototypeOf(headers) as unknown;
  if ((prototype !== Object.prototype && prototype !== null) || Object.getOwnPropertySymbols(headers).length > 0) return undefined;
  const names = Object.keys(headers);
  const list: HeaderList = new Array<string>(names.length * 2);
  let mixedCase = false;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    // Read once: a getter is not asked twice, and later changes to the record are not this response's.
    const value = (headers as Record<string, unknown>)[name];
    if (typeof value !== 'string' || !TOKEN.test(name) || UNPLAIN_VALUE.test(value)) return undefined;
    // undici copies the record into a plain object, where `__proto__` is no key: its rules, not ours.
    if (name === '__proto__') return undefined;
    if (!mixedCase && UPPER.test(name)) mixedCase = true;
    list[i * 2] = name;
    list[i * 2 + 1] = value;
  }
  // Names that differ only in case are one header to `Headers`, which joins their values.
  if (mixedCase && names.length > 1 && new Set(names.map((name) => name.toLowerCase())).size !== names.length) return undefined;
  return list;
}

function listToHeaders(list: HeaderList | undefined, body: string | Uint8Array | null): Headers {
  const headers = new NativeHeaders();
  if (list !== undefined) for (let i = 0; i < list.length; i += 2) headers.append(list[i]!, list[i + 1]!);
  if (typeof body === 'string' && !headers.has('content-type')) headers.set('content-type', TEXT_PLAIN);
  return headers;
}

/** Bytes the native constructor would take, copied as it copies them; undefined for any it would judge itself. */
function keptBytes(bytes: Uint8Array): Uint8Array | undefined {
  const buffer = bytes.buffer;
  if (!(buffer instanceof ArrayBuffer) || (buffer as { resizable?: boolean }).resizable === true) return undefined;
  // slice() throws on a detached buffer, as the native constructor does.
  return new Uint8Array(buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The native response, built on first need from what was kept. */
function native(light: Light): Response {
  let response = light[NATIVE];
  if (response === undefined) {
    response = new NativeResponse(light[BODY] as ConstructorParameters<typeof Response>[0], { status: light[STATUS], headers: light[HEADERS] ?? listToHeaders(light[INIT_HEADERS], light[BODY]) });
    light[NATIVE] = response;
  }
  return response;
}

/**
 * The native response, its headers brought up to date with the `Headers` this one handed out
 * (which the caller may have changed since the native one was built): what undici reads then is
 * what the caller set.
 */
function synced(light: Light): Response {
  const response = native(light);
  const handedOut = light[HEADERS];
  if (handedOut !== undefined) {
    const headers = response.headers;
    for (const name of [...headers.keys()]) headers.delete(name);
    for (const [name, value] of handedOut) headers.append(name, value);
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
  declare [INIT_HEADERS]: HeaderList | undefined;
  declare [HEADERS]: Headers | undefined;
  declare [NATIVE]: Response | undefined;

  static [Symbol.hasInstance](value: unknown): boolean {
    // A native response is a FastResponse too, as a FastResponse is a native one: either may
    // stand for the global `Response`.
    if (this === FastResponseClass) return value instanceof NativeResponse;
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  constructor(body?: ConstructorParameters<typeof Response>[0], init?: ResponseInit) {
    this[HEADERS] = undefined;
    this[INIT_HEADERS] = undefined;
    this[NATIVE] = undefined;
    this[BODY] = null;
    this[STATUS] = 200;
    if (FAST && (init === undefined || (typeof init === 'object' && init !== null && init.statusText === undefined))) {
      const kept = body == null ? null : typeof body === 'string' ? body : body instanceof Uint8Array ? keptBytes(body) : undefined;
      const status = init?.status ?? 200;
      const headers = init?.headers;
      const statusPlain = status === 200 || (Number.isInteger(status) && status >= 200 && status <= 599 && (kept === null || (status !== 204 && status !== 205 && status !== 304)));
      if (kept !== undefined && statusPlain) {
        if (headers === undefined) {
          this[BODY] = kept;
          this[STATUS] = status;
          return;
        }
        if (headers instanceof NativeHeaders) {
          this[BODY] = kept;
          this[STATUS] = status;
          // Copied, as the native constructor copies it: later changes to it are not this response's.
          const copy = new NativeHeaders(headers);
          if (typeof kept === 'string' && !copy.has('content-type')) copy.set('content-type', TEXT_PLAIN);
          this[HEADERS] = copy;
          return;
        }
        const list = plainHeaders(headers);
        if (list !== undefined) {
          this[BODY] = kept;
          this[STATUS] = status;
          this[INIT_HEADERS] = list;
          return;
        }
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
    headers = listToHeaders(this[INIT_HEADERS], this[BODY]);
    this[HEADERS] = headers;
    return headers;
  }
}

// As the global, it should read as the class it stands for.
Object.defineProperty(FastResponseClass, 'name', { value: 'Response' });
Object.defineProperty(FastResponseClass, 'length', { value: 0 });
Object.setPrototypeOf(FastResponseClass, NativeResponse);
Object.setPrototypeOf(FastResponseClass.prototype, NativeResponse.prototype);
if (SLOTS !== undefined) {
  for (const slot of SLOTS) {
    Object.defineProperty(FastResponseClass.prototype, slot, {
      get(this: Light) {
        return (synced(this) as unknown as Record<symbol, unknown>)[slot];
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
  /** The record read at construction (name, value, …), or the `Headers` handed out. */
  headers: HeaderList | Headers | undefined;
  body: string | Uint8Array | null;
}

export function lightParts(response: Response): LightParts | undefined {
  // A subclass may answer status or headers its own way: it is read as any other response.
  if (Object.getPrototypeOf(response) !== FastResponseClass.prototype) return undefined;
  const light = response as unknown as Light;
  if (light[NATIVE] !== undefined) return undefined;
  return { status: light[STATUS], headers: light[HEADERS] ?? light[INIT_HEADERS], body: light[BODY] };
}

/** Makes `FastResponse` the global `Response` (what `overrideGlobalResponse` asks for). */
export function installFastResponse(): void {
  if (globalThis.Response === FastResponse || !FAST) return;
  Object.defineProperty(globalThis, 'Response', { value: FastResponse, writable: true, configurable: true, enumerable: false });
}
