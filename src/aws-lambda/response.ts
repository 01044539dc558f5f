/**
 * An app's response as the Lambda result each event kind expects: headers, multi-value headers
 * and cookies where that kind keeps them, and the body as text or base64.
 */
import { STATUS_CODES } from 'node:http';
import type { Header } from '../../generated/index.js';
import type { ALBResult, APIGatewayV1Result, APIGatewayV2Result, LambdaResult } from './types.js';
import type { EventKind } from './events.js';

/** Media types whose bodies go as text, beside every `text/*` and `+json` / `+xml` suffix. */
export const DEFAULT_TEXT_MIME_TYPES: readonly string[] = Object.freeze([
  'application/json',
  'application/javascript',
  'application/xml',
  'application/x-www-form-urlencoded',
  'application/vnd.api+json',
  'application/graphql',
  'image/svg+xml',
]);

export interface BodyEncoding {
  textMimeTypes: ReadonlySet<string>;
}

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Text when the content type is a text type, no content-encoding is set (a gzipped JSON body is
 * binary), and the bytes are valid UTF-8; base64 otherwise. An empty body is text.
 */
export function encodeBody(body: Uint8Array, contentType: string | undefined, contentEncoding: string | undefined, encoding: BodyEncoding): { body: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { body: '', isBase64Encoded: false };
  const mime = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  const textType = mime.startsWith('text/') || mime.endsWith('+json') || mime.endsWith('+xml') || encoding.textMimeTypes.has(mime);
  const encoded = contentEncoding !== undefined && contentEncoding.trim().toLowerCase() !== 'identity' && contentEncoding.trim() !== '';
  if (textType && !encoded) {
    try {
      return { body: utf8.decode(body), isBase64Encoded: false };
    } catch {
      // Declared text but not UTF-8: base64 keeps the bytes intact.
    }
  }
  return { body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64'), isBase64Encoded: true };
}

/** Every way of writing `name` in upper and lower case, for ALB single-value headers. */
function casings(name: string, count: number): string[] {
  const out: string[] = [];
  const letters = [...name].map((c, i) => (c.toLowerCase() !== c.toUpperCase() ? i : -1)).filter((i) => i >= 0);
  for (let mask = 0; out.length < count && mask < 2 ** letters.length; mask++) {
    const chars = [...name.toLowerCase()];
    letters.forEach((at, bit) => {
      if (mask & (1 << bit)) chars[at] = chars[at]!.toUpperCase();
    });
    out.push(chars.join(''));
  }
  return out;
}

export function lambdaResult(kind: EventKind, multiValue: boolean, status: number, headers: readonly Header[], body: Uint8Array, encoding: BodyEncoding): LambdaResult {
  const grouped = new Map<string, string[]>();
  let contentType: string | undefined;
  let contentEncoding: string | undefined;
  for (const [n, v] of headers) {
    const name = latin1(n).toLowerCase();
    const value = latin1(v);
    if (name === 'content-type') contentType ??= value;
    if (name === 'content-encoding') contentEncoding ??= value;
    const list = grouped.get(name);
    if (list === undefined) grouped.set(name, [value]);
    else list.push(value);
  }
  const encoded = encodeBody(body, contentType, contentEncoding, encoding);

  if (kind === 'v2') {
    // Payload 2.0: one value per name (joined), and each cookie in `cookies`.
    const result: APIGatewayV2Result = { statusCode: status, headers: {}, ...encoded };
    for (const [name, values] of grouped) {
      if (name === 'set-cookie') result.cookies = values;
      else result.headers![name] = values.join(', ');
    }
    return result;
  }
  if (kind === 'v1') {
    // REST: single values in `headers`, names with several in `multiValueHeaders`; API Gateway merges them.
    const result: APIGatewayV1Result = { statusCode: status, headers: {}, multiValueHeaders: {}, ...encoded };
    for (const [name, values] of grouped) {
      if (values.length === 1) result.headers![name] = values[0]!;
      else result.multiValueHeaders![name] = values;
    }
    return result;
  }
  const result: ALBResult = { statusCode: status, statusDescription: `${status} ${STATUS_CODES[status] ?? 'Unknown'}`, ...encoded };
  if (multiValue) {
    // A target group with multi-value headers reads only `multiValueHeaders`.
    result.multiValueHeaders = Object.fromEntries(grouped);
    return result;
  }
  // Without them, the ALB takes one value per key, but keys differing in case are separate
  // headers: several set-cookies go out under differently cased names (as Mangum does).
  result.headers = {};
  for (const [name, values] of grouped) {
    if (values.length === 1) result.headers[name] = values[0]!;
    else if (name === 'set-cookie') casings(name, values.length).forEach((cased, i) => (result.headers![cased] = values[i]!));
    else result.headers[name] = values.join(', ');
  }
  return result;
}
