/**
 * `fromFetchHandler(handler)`: a fetch handler (Hono's `app.fetch`, or any
 * `(request) => Response`) as an ASGI app, so it runs under `serve`, behind `validate` and
 * `baseHTTPMiddleware`.
 */
import type { ASGIReceiveEvent, Header, HTTPResponseBodyEvent, HTTPScope } from '../../generated/index.js';
import { TAKEN } from '../http/protocol-constants.js';
import { ClientDisconnect } from '../http/request.js';
import { decodeLatin1, encodeLatin1 } from '../http/target.js';
import { encodeUtf8 } from '../http/text-bytes.js';
import type { ASGIApp, Receive, Send } from '../protocol.js';
import { installFastResponse, lightParts, type LightParts } from './fast-response.js';
import { scanned, scanRequestHeaders } from './request-headers.js';
import { wholeBody } from './response-body.js';
import { abortServed, servedRequest } from './served-request.js';

/** A fetch handler: what Bun, Deno and Workers serve, and what Hono's `app.fetch` is. */
export type FetchHandlerFunction = (request: Request) => Response | Promise<Response>;

const EMPTY = new Uint8Array(0);

/**
 * The last origin made from a `host` header, and the header's bytes (a copy: a server may reuse
 * the memory of a scope's bytes): a server's requests nearly all name the same host, and this
 * spares decoding it and checking it as a URL again for each.
 */
let lastScheme = '';
let lastHost: Uint8Array | undefined;
let lastOrigin = '';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether `host` could be a `uri-host[:port]` (RFC 9112 §3.2): no byte that would end the
 * authority and start a path, query or fragment, or add user info, once it is put in a URL.
 */
function plainAuthority(host: Uint8Array): boolean {
  for (let i = 0; i < host.length; i++) {
    const b = host[i]!;
    // Controls and space, '#', '/', '?', '@', '\', DEL.
    if (b <= 0x20 || b === 0x23 || b === 0x2f || b === 0x3f || b === 0x40 || b === 0x5c || b === 0x7f) return false;
  }
  return true;
}

/** The request's origin: the scheme, then the `host` header or else the server address. */
function requestOrigin(scope: HTTPScope, host: Uint8Array | undefined): string {
  const scheme = scope.scheme ?? 'http';
  if (host !== undefined) {
    if (scheme === lastScheme && lastHost !== undefined && sameBytes(host, lastHost)) return lastOrigin;
    // A host that reaches into the path ('a.example/admin?') would hand the handler a URL the
    // client never asked for: the client gets a 400, as any server would answer a bad Host.
    if (!plainAuthority(host)) throw new TypeError(`Invalid host header: ${JSON.stringify(decodeLatin1(host))}`);
    lastOrigin = `${scheme}://${decodeLatin1(host)}`;
    lastScheme = scheme;
    lastHost = Uint8Array.prototype.slice.call(host);
    return lastOrigin;
  }
  const server = scope.server;
  const authority = server == null ? 'localhost' : server[1] == null ? server[0] : `${server[0].includes(':') ? `[${server[0]}]` : server[0]}:${server[1]}`;
  return `${scheme}://${authority}`;
}

/** The request target: root path, raw path, query. */
function requestTarget(scope: HTTPScope): string {
  const raw = scope.raw_path;
  const rawPath = raw == null ? encodeURI(scope.path.slice((scope.root_path ?? '').length))
    // A one-byte path ('/') is a single-character string V8 keeps: no decoding, no new string.
    : raw.length === 1 ? String.fromCharCode(raw[0]!) : decodeLatin1(raw);
  const root = scope.root_path ?? '';
  const query = scope.query_string.length > 0 ? `?${decodeLatin1(scope.query_string)}` : '';
  return root.length === 0 && query.length === 0 ? rawPath : `${root}${rawPath}${query}`;
}

/** undici's default type for a string body. */
const TEXT_PLAIN = 'text/plain;charset=UTF-8';

/** A kept response's headers, as the native one would have them: names lowercased, a string body typed. */
function lightHeaders(parts: LightParts): Header[] {
  const headers = parts.headers;
  if (headers instanceof Headers) return responseHeaders(headers);
  const list: Header[] = [];
  let typed = false;
  if (headers !== undefined) {
    for (let i = 0; i < headers.length; i += 2) {
      const lower = headers[i]!.toLowerCase();
      if (lower === 'content-type') typed = true;
      list.push([encodeLatin1(lower), encodeLatin1(headers[i + 1]!)]);
    }
  }
  if (!typed && typeof parts.body === 'string') list.push([encodeLatin1('content-type'), encodeLatin1(TEXT_PLAIN)]);
  return list;
}

function responseHeaders(headers: Headers): Header[] {
  const list: Header[] = [];
  // Iteration yields set-cookie once per cookie and every other name once, values joined.
  for (const [name, value] of headers) list.push([encodeLatin1(name), encodeLatin1(value)]);
  return list;
}

/** Resolves with the promise's value if it settles within a few microtask turns, else undefined. */
function settledSoon<T>(promise: Promise<T>): Promise<T | undefined> {
  const later = Promise.resolve(undefined).then(() => undefined).then(() => undefined).then(() => undefined);
  return Promise.race([promise, later]);
}

/** One request through the bridge: its `Request`, and whether the client or the response ended it. */
class Call {
  request: Request | undefined;
  /** Set before the last message goes: the server answers the watching receive() with
   * http.disconnect as soon as the response is complete, and that is no client leaving. */
  responded = false;

  constructor(readonly receive: Receive) {}

  /** The client left (or the response failed): the handler's signal aborts. */
  abort(reason: unknown): void {
    if (this.request !== undefined) abortServed(this.request, reason);
  }

  /**
   * Once the body is read, the next receive() is http.disconnect: the client left, or the
   * response is done. Only the first aborts the handler's signal.
   */
  watch(): void {
    void this.receive().then((message) => this.watched(message), () => {});
  }

  private watched(message: ASGIReceiveEvent): void {
    // A server may still hand over the (empty) last body message first; wait on past it.
    if (message.type === 'http.request') return this.watch();
    if (message.type === 'http.disconnect' && !this.responded) this.abort(new ClientDisconnect('the client disconnected'));
  }

  /** The request body as a stream that reads one message per pull: backpressure to the client. */
  upload(first: Uint8Array): ReadableStream<Uint8Array> {
    let pending: Uint8Array | undefined = first.length > 0 ? first : undefined;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (pending !== undefined) {
          controller.enqueue(pending);
          pending = undefined;
          return;
        }
        const message = await this.receive();
        if (message.type === 'http.request') {
          if (message.body !== undefined && message.body.length > 0) controller.enqueue(message.body);
          if (message.more_body !== true) {
            controller.close();
            this.watch();
          }
        } else {
          this.abort(new ClientDisconnect('the client disconnected'));
          controller.error(new ClientDisconnect('the client disconnected before the request body was complete'));
        }
      },
    }, { highWaterMark: 0 });
  }
}

export interface FromFetchHandlerOptions {
  /**
   * Make `FastResponse` the global `Response`, so that the handler's responses (Hono's
   * `c.text()`, `c.json()`, a bare `new Response('…')`) are built without undici's body stream
   * and sent from what they were given. Default `false`: it changes a global for the whole
   * process, which a library should not do unasked. @hono/node-server does it by default
   * (`overrideGlobalObjects`); turning it on here gives Hono the same footing under `serve`.
   */
  overrideGlobalResponse?: boolean;
}

export function fromFetchHandler(handler: FetchHandlerFunction, options: FromFetchHandlerOptions = {}): ASGIApp {
  if (options.overrideGlobalResponse === true) installFastResponse();
  // Not an async function: a request without a body and a handler that answers at once go from
  // scope to the last send without a turn of their own.
  return (scope, receive, send) => {
    if (scope.type !== 'http') return DONE; // lifespan: not spoken, so serve's 'auto' mode moves on
    try {
      const call = new Call(receive);
      let origin: string;
      let announcesBody: boolean;
      try {
        scanRequestHeaders(scope.headers);
        origin = requestOrigin(scope, scanned.host);
        announcesBody = scanned.announcesBody;
      } catch (error) {
        return refuse(send, scope.method, error);
      }
      // A request whose headers announce no body is not read: some servers (tsgi's serve among
      // them) send no `http.request` at all for it, and waiting for one would hang. Over HTTP/2 a
      // body needs no such header, so there the body is read whatever the headers say.
      if (scope.method !== 'GET' && scope.method !== 'HEAD' && (announcesBody || scope.http_version === '2')) {
        return withBody(handler, scope, origin, call, send);
      }
      return respond(handler, scope, origin, call, send, {}, true);
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

const DONE: Promise<void> = Promise.resolve();

/** Reads the first body message, then answers: a body that came whole is handed over as bytes, no stream. */
async function withBody(handler: FetchHandlerFunction, scope: HTTPScope, origin: string, call: Call, send: Send): Promise<void> {
  const init: RequestInit & { duplex?: 'half' } = {};
  const first = (await call.receive()) as ASGIReceiveEvent;
  if (first.type !== 'http.request') return;
  const bytes = first.body ?? EMPTY;
  let bodyDone = true;
  if (first.more_body === true) {
    bodyDone = false;
    init.body = call.upload(bytes);
    init.duplex = 'half';
  } else if (bytes.length > 0) {
    init.body = bytes as RequestInit['body'];
  }
  return respond(handler, scope, origin, call, send, init, bodyDone);
}

function respond(handler: FetchHandlerFunction, scope: HTTPScope, origin: string, call: Call, send: Send, init: RequestInit, bodyDone: boolean): Promise<void> {
  try {
    call.request = servedRequest(origin, requestTarget(scope), scope.method, scope.headers, init);
  } catch (error) {
    // The fetch API refuses some requests HTTP allows: TRACE, TRACK and CONNECT, a header it
    // will not hold. The client asked for what this app cannot take: a 4xx, not a 500.
    return refuse(send, scope.method, error);
  }
  // A streamed upload watches from its end (and aborts the signal itself if the client leaves
  // mid-body); the handler may leave it unread, as in any server.
  if (bodyDone) call.watch();
  const result = handler(call.request);
  // Most handlers answer at once (Hono without async middleware does): no turn spent waiting.
  if (typeof (result as Partial<PromiseLike<Response>>).then === 'function') {
    return Promise.resolve(result).then((response) => sendResponse(response, send, call));
  }
  return sendResponse(result as Response, send, call);
}

const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

async function refuse(send: Send, method: string, error: unknown): Promise<void> {
  const notAllowed = FORBIDDEN_METHODS.has(method.toUpperCase());
  const text = new TextEncoder().encode(`${notAllowed ? 'Method Not Allowed' : 'Bad Request'}: ${error instanceof Error ? error.message : String(error)}`);
  await send({ type: 'http.response.start', status: notAllowed ? 405 : 400, headers: [[encodeLatin1('content-type'), encodeLatin1('text/plain; charset=utf-8')]] });
  await send({ type: 'http.response.body', body: text });
}

function sendResponse(response: Response, send: Send, call: Call): Promise<void> {
  const light = lightParts(response);
  if (light === undefined) return sendNative(response, send, call);
  // A FastResponse nobody has read the body of: its parts go as they were given.
  const body = light.body;
  const last: HTTPResponseBodyEvent = { type: 'http.response.body', body: body === null ? EMPTY : typeof body === 'string' ? encodeUtf8(body) : body, more_body: false };
  const sent = send({ type: 'http.response.start', status: light.status, headers: lightHeaders(light) });
  // A server that took the start at once (TAKEN) is handed the body in the same turn.
  if (sent === TAKEN) {
    call.responded = true;
    return send(last);
  }
  return sent.then(() => {
    call.responded = true;
    return send(last);
  });
}

async function sendNative(response: Response, send: Send, call: Call): Promise<void> {
  const start = { type: 'http.response.start' as const, status: response.status, headers: responseHeaders(response.headers) };
  const body = response.body;
  // A body given whole (bytes, a string) goes as one last message, unread through its stream.
  const whole = body === null ? EMPTY : wholeBody(response);
  if (whole !== undefined) {
    await send(start);
    call.responded = true;
    await send({ type: 'http.response.body', body: whole, more_body: false });
    return;
  }
  const reader = body!.getReader();
  try {
    await send(start);
    let step = await reader.read();
    while (!step.done) {
      // A body known whole (a string, bytes) has its next read settled at once: send it as the
      // last chunk, so the server can give it a content-length. A stream that is still
      // producing gets its chunk sent now.
      const next = reader.read();
      const soon = await settledSoon(next);
      if (soon !== undefined && soon.done) {
        call.responded = true;
        await send({ type: 'http.response.body', body: step.value, more_body: false });
        return;
      }
      await send({ type: 'http.response.body', body: step.value, more_body: true });
      step = soon ?? (await next);
    }
    call.responded = true;
    await send({ type: 'http.response.body', body: EMPTY, more_body: false });
  } catch (error) {
    reader.cancel(error).catch(() => {});
    call.abort(error);
    throw error;
  }
}
