/** The ASGI HTTP scope of one `node:http` request. */
import type { IncomingMessage } from 'node:http';
import type { Header, HTTPScope } from '../../generated/index.js';

export interface ScopeContext {
  scheme: 'http' | 'https';
  rootPath: string;
  /** The lifespan state; each request gets a shallow copy. */
  state: Record<string, unknown> | undefined;
  extensions: NonNullable<HTTPScope['extensions']>;
}

const ASGI = Object.freeze({ version: '3.0', spec_version: '2.5' }) as HTTPScope['asgi'];

function httpVersion(version: string): HTTPScope['http_version'] {
  if (version === '1.1' || version === '1.0') return version;
  return version.startsWith('2') ? '2' : '1.1';
}

/** Percent-decoding as uvicorn does it: lenient, leaving a malformed escape as it is. */
function decodePath(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw.replace(/%[0-9A-Fa-f]{2}/g, (escape) => {
      try {
        return decodeURIComponent(escape);
      } catch {
        return escape;
      }
    });
  }
}

/**
 * The request's headers as ASGI byte pairs, in arrival order with duplicates, names lower case.
 * Node hands them over as latin-1 strings; all of them are written into one buffer and the pairs
 * are views into it, which costs one allocation instead of one per name and value.
 */
function headerPairs(raw: string[]): Header[] {
  let total = 0;
  for (let i = 0; i < raw.length; i++) total += raw[i]!.length;
  const bytes = Buffer.allocUnsafe(total);
  const pairs: Header[] = new Array<Header>(raw.length >> 1);
  let offset = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const nameStart = offset;
    offset += bytes.write(name, offset, 'latin1');
    const valueStart = offset;
    offset += bytes.write(value, offset, 'latin1');
    pairs[i >> 1] = [bytes.subarray(nameStart, valueStart), bytes.subarray(valueStart, offset)];
  }
  return pairs;
}

export function httpScope(req: IncomingMessage, context: ScopeContext): HTTPScope {
  let target = req.url ?? '/';
  // An absolute-form target (a proxy request) carries scheme and authority: keep the path.
  if (!target.startsWith('/') && /^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    const slash = target.indexOf('/', target.indexOf('//') + 2);
    target = slash === -1 ? '/' : target.slice(slash);
  }
  const question = target.indexOf('?');
  const rawPath = question === -1 ? target : target.slice(0, question);
  const query = question === -1 ? '' : target.slice(question + 1);
  const socket = req.socket;
  const scope: HTTPScope = {
    type: 'http',
    asgi: ASGI,
    http_version: httpVersion(req.httpVersion),
    method: req.method ?? 'GET',
    scheme: context.scheme,
    path: context.rootPath + decodePath(rawPath),
    raw_path: Buffer.from(rawPath, 'latin1'),
    query_string: Buffer.from(query, 'latin1'),
    root_path: context.rootPath,
    headers: headerPairs(req.rawHeaders),
    client: socket.remoteAddress !== undefined ? [socket.remoteAddress, socket.remotePort ?? 0] : null,
    server: socket.localAddress !== undefined ? [socket.localAddress, socket.localPort ?? null] : null,
    extensions: context.extensions,
  };
  if (context.state !== undefined) scope.state = { ...context.state };
  return scope;
}
