/** The ASGI HTTP scope of one fetch `Request`. */
import type { Header, HTTPScope } from '../../generated/index.js';
import { decodePath, encodeLatin1, splitUrl } from '../http/target.js';
import type { Address } from './connection.js';

const UPPER_A = 0x41;
const UPPER_Z = 0x5a;

const ASGI = Object.freeze({ version: '3.0', spec_version: '2.5' }) as HTTPScope['asgi'];
/**
 * The fetch API has no way to send trailers, early hints, a file by path or debug info, so no
 * extension is offered: an app that checks `scope.extensions` falls back to plain messages.
 */
const NO_EXTENSIONS: NonNullable<HTTPScope['extensions']> = Object.freeze({});
const HOST = encodeLatin1('host');

export interface ScopeContext {
  rootPath: string;
  /** The lifespan state; each request gets a shallow copy. */
  state: Record<string, unknown> | undefined;
}

/**
 * Headers as the `Headers` object holds them: names lower-cased, in its (sorted) order, one
 * entry per name with repeated values joined by ", ", except `set-cookie`, which stays one entry
 * per value. A fetch runtime keeps no more than that. A request without `host` (one built in
 * process) gets one from its URL, as an HTTP/2 server derives it from `:authority`.
 */
function scopeHeaders(headers: Headers, host: string): Header[] {
  const list: Header[] = [];
  let hasHost = false;
  for (const [name, value] of headers) {
    if (name === 'host') hasHost = true;
    list.push([encodeLatin1(name), encodeLatin1(value)]);
  }
  if (!hasHost) list.unshift([HOST, encodeLatin1(host)]);
  return list;
}

/**
 * A Node server's raw header list (name, value, name, value ...), in wire order with duplicates.
 * All of it is encoded into one array, and each name and value is a view into it.
 */
function rawScopeHeaders(raw: string[]): Header[] {
  let total = 0;
  for (let i = 0; i < raw.length; i++) total += raw[i]!.length;
  const bytes = new Uint8Array(total);
  const headers = new Array<Header>(raw.length >> 1);
  let offset = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const nameStart = offset;
    for (let j = 0; j < name.length; j++) {
      const c = name.charCodeAt(j);
      bytes[offset++] = c >= UPPER_A && c <= UPPER_Z ? c | 0x20 : c;
    }
    const valueStart = offset;
    for (let j = 0; j < value.length; j++) bytes[offset++] = value.charCodeAt(j);
    headers[i >> 1] = [bytes.subarray(nameStart, valueStart), bytes.subarray(valueStart, offset)];
  }
  return headers;
}

function serverAddress(url: string, scheme: string): { host: string; server: [string, number] } {
  const start = url.indexOf('://') + 3;
  let end = url.indexOf('/', start);
  if (end === -1) end = url.length;
  const host = url.slice(start, end);
  // An IPv6 literal is bracketed; the port is whatever follows the last colon outside brackets.
  const bracket = host.lastIndexOf(']');
  const colon = host.lastIndexOf(':');
  const hasPort = colon > bracket;
  const hostname = hasPort ? host.slice(0, colon) : host;
  const port = hasPort ? Number(host.slice(colon + 1)) : scheme === 'https' ? 443 : 80;
  return { host, server: [hostname.startsWith('[') ? hostname.slice(1, -1) : hostname, port] };
}

export function fetchScope(request: Request, client: Address | null, rawHeaders: string[] | undefined, context: ScopeContext): HTTPScope {
  const url = request.url;
  const scheme = url.charCodeAt(4) === 0x73 /* s */ ? 'https' : 'http';
  const { path, query } = splitUrl(url);
  const { host, server } = serverAddress(url, scheme);
  const scope: HTTPScope = {
    type: 'http',
    asgi: ASGI,
    // The fetch API does not say which HTTP version carried the request.
    http_version: '1.1',
    method: request.method,
    scheme,
    path: context.rootPath + decodePath(path),
    raw_path: encodeLatin1(path),
    query_string: encodeLatin1(query),
    root_path: context.rootPath,
    headers: rawHeaders !== undefined ? rawScopeHeaders(rawHeaders) : scopeHeaders(request.headers, host),
    client,
    server,
    extensions: NO_EXTENSIONS,
  };
  if (context.state !== undefined) scope.state = { ...context.state };
  return scope;
}
