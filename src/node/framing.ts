/**
 * The response head as the server writes it: the app's status and headers checked and turned into
 * node:http's flat list, with the message framing decided by the server, never left to the app.
 *
 * Framing (RFC 9112 §6.1–6.3):
 * - `transfer-encoding` wins over `content-length`. A recipient gives it precedence (§6.3 rule 3),
 *   so that is what every client and intermediary on the path would conclude; sending both is
 *   forbidden (§6.2), so the app's `content-length` is dropped.
 * - A transfer coding must end in `chunked` for the body to be delimited by it; any other coding
 *   leaves the body delimited by the connection closing (§6.3 rule 7), so the connection closes.
 *   An HTTP/1.0 client gets no `transfer-encoding` at all (§6.1) and a close-delimited body.
 * - A `content-length` is a promise the server keeps: it counts the body bytes it writes and never
 *   writes past the declared length; see `RequestResponseCycle`.
 * - A 204 carries neither field (RFC 9110 §8.6); 304 and HEAD may carry the length the body
 *   would have had, and no body. 1xx is not a final status: the app gets a 500.
 * - `connection` is the server's: an app's `close` is honoured, anything else is dropped.
 */
import type { Header } from '../../generated/index.js';
import { latin1String } from './latin1.js';

/** Header bytes as node:http wants them: latin-1 strings, decoded natively. */
export function decodeLatin1(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`a header name or value must be a Uint8Array, got ${typeof bytes}`);
  return latin1String(bytes);
}

/** What a response head decided; one scratch object, filled by `responseHead` (sync, so never shared). */
export interface HeadFraming {
  /** The declared body length to hold the body to, or -1 when the body is not length-delimited. */
  length: number;
  /** The connection must close after this response. */
  close: boolean;
}

/** Thrown for a head node:http would refuse or that would frame the body wrongly: the app gets a 500 if nothing was written. */
export class InvalidResponseHead extends TypeError {
  override readonly name = 'InvalidResponseHead';
}

const DIGITS = /^[0-9]{1,15}$/;
const CHUNKED_LAST = /(?:^|,)[ \t]*chunked[ \t]*$/i;
const CHUNKED_ANY = /(?:^|,)[ \t]*chunked[ \t]*(?:,|$)/i;
const CLOSE = /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i;

/**
 * Checks the status and builds the flat header list. `bodyLength` is the length of a body sent
 * in one piece (a `content-length` is added when the app gave none), or -1 for a streamed one.
 * `bodyless` is true for HEAD, 1xx, 204 and 304. The framing decisions land in `out`.
 */
export function responseHead(
  status: number,
  headers: readonly Header[],
  bodyLength: number,
  bodyless: boolean,
  http10: boolean,
  out: HeadFraming,
): string[] {
  if (!Number.isInteger(status) || status < 200 || status > 999) {
    throw new InvalidResponseHead(`invalid response status ${String(status)}: a final status is an integer from 200 to 999`);
  }
  if (!Array.isArray(headers)) throw new InvalidResponseHead('response headers must be an array of [name, value] pairs');
  const flat: string[] = [];
  let length = -1;
  let te: string | undefined;
  let close = false;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    const n = decodeLatin1(name);
    const v = decodeLatin1(value);
    // Only three names matter to framing; their lengths rule out nearly every other header at once.
    if (n.length === 14 && n.toLowerCase() === 'content-length') {
      const trimmed = v.trim();
      if (!DIGITS.test(trimmed) || (length >= 0 && Number(trimmed) !== length)) {
        throw new InvalidResponseHead(`invalid content-length ${JSON.stringify(v)}`);
      }
      length = Number(trimmed);
      continue;
    }
    if (n.length === 17 && n.toLowerCase() === 'transfer-encoding') {
      te = te === undefined ? v : `${te}, ${v}`;
      continue;
    }
    if (n.length === 10 && n.toLowerCase() === 'connection') {
      if (CLOSE.test(v)) close = true;
      continue;
    }
    flat.push(n, v);
  }
  const noFraming = status === 204;
  if (te !== undefined && !noFraming) {
    if (CHUNKED_ANY.test(te) && !CHUNKED_LAST.test(te)) throw new InvalidResponseHead(`invalid transfer-encoding ${JSON.stringify(te)}: chunked must be the final coding`);
    length = -1;
    if (http10) close = true;
    else {
      flat.push('transfer-encoding', te);
      if (!CHUNKED_LAST.test(te)) close = true;
    }
  } else if (noFraming) {
    length = -1;
  } else if (length >= 0) {
    flat.push('content-length', String(length));
  } else if (bodyLength >= 0 && !bodyless) {
    flat.push('content-length', String(bodyLength));
  } else if (bodyLength >= 0 && bodyless && status !== 304) {
    // HEAD: the length the body would have had.
    flat.push('content-length', String(bodyLength));
  }
  if (close) flat.push('connection', 'close');
  out.length = bodyless ? -1 : length;
  out.close = close;
  return flat;
}
