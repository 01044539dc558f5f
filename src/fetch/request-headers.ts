/**
 * A scope's request headers, read for `fromFetchHandler` from their bytes: what the handler's
 * `Request` needs before it exists (the `host`, whether a body is announced, whether the `Headers`
 * class would refuse any of them), without turning every header into strings. The string pairs
 * are made only when the `Request` is built, which a handler that reads only `url` and `method`
 * never asks for.
 */
import type { Header } from '../../generated/index.js';
import { decodeLatin1 } from '../http/target.js';

/** RFC 9110 token characters, by byte. */
const TOKEN_BYTE = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN_BYTE[c.charCodeAt(0)] = 1;

/** What `scanRequestHeaders` found; one per process, read right after the call (nothing awaits between). */
export const scanned = { host: undefined as Uint8Array | undefined, announcesBody: false };

/** Whether `bytes` is `name`, ignoring ASCII case (`name` lowercase). */
function is(bytes: Uint8Array, name: string): boolean {
  if (bytes.length !== name.length) return false;
  for (let i = 0; i < bytes.length; i++) if ((bytes[i]! | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

/** Whether `bytes` is the ASCII digit zero alone. */
function isZero(bytes: Uint8Array): boolean {
  return bytes.length === 1 && bytes[0] === 0x30;
}

/** The value's text once the `Headers` class has trimmed it, if it still holds NUL, CR or LF; else undefined. */
function refusedValue(value: Uint8Array): string | undefined {
  let suspect = false;
  for (let i = 0; i < value.length; i++) {
    const b = value[i]!;
    if (b === 0 || b === 0x0a || b === 0x0d) {
      suspect = true;
      break;
    }
  }
  if (!suspect) return undefined;
  const text = decodeLatin1(value);
  // The constructor trims HTTP whitespace (CR and LF among it) at both ends before it checks.
  return /[\0\r\n]/.test(text.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '')) ? text : undefined;
}

/**
 * Reads the headers into `scanned`; throws the TypeError the `Headers` class would for a name or
 * value it refuses.
 */
export function scanRequestHeaders(list: readonly Header[]): void {
  let host: Uint8Array | undefined;
  let announcesBody = false;
  for (let i = 0; i < list.length; i++) {
    const header = list[i]!;
    const name = header[0];
    const value = header[1];
    if (name.length === 0) throw new TypeError('Headers.append: "" is an invalid header name.');
    for (let j = 0; j < name.length; j++) {
      if (TOKEN_BYTE[name[j]!] === 0) throw new TypeError(`Headers.append: "${decodeLatin1(name)}" is an invalid header name.`);
    }
    const refused = refusedValue(value);
    if (refused !== undefined) throw new TypeError(`Headers.append: "${refused}" is an invalid header value.`);
    const length = name.length;
    if (length === 4) {
      if (host === undefined && is(name, 'host')) host = value;
    } else if (length === 14) {
      if (!isZero(value) && is(name, 'content-length')) announcesBody = true;
    } else if (length === 17 && is(name, 'transfer-encoding')) {
      announcesBody = true;
    }
  }
  scanned.host = host;
  scanned.announcesBody = announcesBody;
}

/** The headers as the string pairs a `Headers` init takes, in order, duplicates kept. */
export function headerPairs(list: readonly Header[]): [string, string][] {
  const pairs = new Array<[string, string]>(list.length);
  for (let i = 0; i < list.length; i++) {
    const header = list[i]!;
    pairs[i] = [decodeLatin1(header[0]), decodeLatin1(header[1])];
  }
  return pairs;
}
