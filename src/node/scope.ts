/** The ASGI HTTP scope of one `node:http` request. */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Header, HTTPScope } from '../../generated/index.js';
import { decodePath, splitTarget } from '../http/target.js';
import { connectionOf } from './connection.js';

export interface ScopeContext {
  scheme: 'http' | 'https';
  rootPath: string;
  /** The lifespan state; each request gets a shallow copy. */
  state: Record<string, unknown> | undefined;
  extensions: NonNullable<HTTPScope['extensions']>;
  /** Set when serving on a unix domain socket: `scope.server` is then `[socketPath, null]`. */
  socketPath?: string;
}

const ASGI = Object.freeze({ version: '3.0', spec_version: '2.5' }) as HTTPScope['asgi'];

function httpVersion(version: string): HTTPScope['http_version'] {
  if (version === '1.1' || version === '1.0') return version;
  return version.startsWith('2') ? '2' : '1.1';
}

/**
 * Node hands header names and values, path and query over as latin-1 strings. They are copied
 * into one slab with a plain char-code loop (measured at about half the cost of Buffer.write per
 * field), and the fields are views into it. Small requests share a slab, as node's Buffer pool
 * does, so a request costs no ArrayBuffer of its own; a slab lives as long as a view into it.
 */
const SLAB_SIZE = 64 * 1024;
const OWN_SLAB = 4 * 1024;
let slab = new Uint8Array(SLAB_SIZE);
// Kept beside the slab: reading a typed array's .buffer is a call, and the views need it.
let slabBuffer = slab.buffer;
let slabUsed = 0;

/** Room for `size` bytes: the start offset in `slab`, taken from a fresh slab when needed. */
function reserve(size: number): number {
  if (size > OWN_SLAB) {
    slab = new Uint8Array(size);
    slabBuffer = slab.buffer;
    slabUsed = size; // used up: the next request starts a new shared slab
    return 0;
  }
  if (slabUsed + size > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabBuffer = slab.buffer;
    slabUsed = 0;
  }
  const start = slabUsed;
  slabUsed += size;
  return start;
}

/** Copies latin-1 `text` into `bytes` at `offset`; header names lower-cased. Returns the end. */
function copy(bytes: Uint8Array, offset: number, text: string, lower: boolean): number {
  const n = text.length;
  if (lower) {
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      bytes[offset + i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    }
  } else {
    for (let i = 0; i < n; i++) bytes[offset + i] = text.charCodeAt(i);
  }
  return offset + n;
}

export function httpScope(req: IncomingMessage, context: ScopeContext): HTTPScope {
  const { path: rawPath, query } = splitTarget(req.url ?? '/');
  const socket = req.socket;
  // A served connection has its addresses read once; a bare socket answers through its getters.
  const peer: Pick<Socket, 'remoteAddress' | 'remotePort' | 'localAddress' | 'localPort'> = connectionOf(socket) ?? socket;
  const raw = req.rawHeaders;
  let total = rawPath.length + query.length;
  for (let i = 0; i < raw.length; i++) total += raw[i]!.length;
  let offset = reserve(total);
  const bytes = slab;
  // Views made with the constructor: about half the cost of subarray(), which looks up a species.
  const buffer = slabBuffer;
  const headers: Header[] = new Array<Header>(raw.length >> 1);
  for (let i = 0; i < raw.length; i += 2) {
    const nameStart = offset;
    offset = copy(bytes, offset, raw[i]!, true);
    const valueStart = offset;
    offset = copy(bytes, offset, raw[i + 1]!, false);
    headers[i >> 1] = [new Uint8Array(buffer, nameStart, valueStart - nameStart), new Uint8Array(buffer, valueStart, offset - valueStart)];
  }
  const pathStart = offset;
  offset = copy(bytes, offset, rawPath, false);
  const queryStart = offset;
  offset = copy(bytes, offset, query, false);
  const scope: HTTPScope = {
    type: 'http',
    asgi: ASGI,
    http_version: httpVersion(req.httpVersion),
    method: req.method ?? 'GET',
    scheme: context.scheme,
    path: context.rootPath + decodePath(rawPath),
    raw_path: new Uint8Array(buffer, pathStart, queryStart - pathStart),
    query_string: new Uint8Array(buffer, queryStart, offset - queryStart),
    root_path: context.rootPath,
    headers,
    client: peer.remoteAddress !== undefined ? [peer.remoteAddress, peer.remotePort ?? 0] : null,
    server: context.socketPath !== undefined
      ? [context.socketPath, null]
      : peer.localAddress !== undefined ? [peer.localAddress, peer.localPort ?? null] : null,
    extensions: context.extensions,
  };
  if (context.state !== undefined) scope.state = { ...context.state };
  return scope;
}
