/**
 * `Request`: the HTTP scope and its `receive`, read as a request. The body can be read whole
 * (`body`, `text`, `json`, cached) or streamed once (`stream`).
 */
import type { ASGIReceiveEvent, HTTPScope } from '../../generated/index.js';
import type { Receive } from '../protocol.js';
import { fromLatin1, HeaderMap } from './headers.js';

/**
 * The client went away. Thrown from a body read cut short, and by tsgi's servers from a `send()`
 * on a closed connection (ASGI 2.4 has servers raise there; apps may catch it and clean up).
 */
export class ClientDisconnect extends Error {
  override readonly name = 'ClientDisconnect';
  constructor(message = 'the client disconnected before the request body was complete') {
    super(message);
  }
}

const EMPTY = new Uint8Array(0);
const noBody: Receive = () => Promise.resolve({ type: 'http.request', body: new Uint8Array(0), more_body: false });
const utf8 = new TextDecoder();

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let length = 0;
  for (const c of chunks) length += c.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Resolves on the next turn of the event loop: "not available right now". */
const nextTurn = () => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 0));

export class Request {
  readonly scope: HTTPScope;
  protected readonly receive: Receive;

  /** The whole body, once `body()` (or a replay) has read it. */
  protected bodyCache: Uint8Array | undefined;
  /** The last body chunk has been received from `receive`. */
  protected streamConsumed = false;
  /** `http.disconnect` has been received. */
  protected disconnected = false;
  /** A receive() started by `isDisconnected()` whose message is owed to the next reader. */
  private peeked: Promise<ASGIReceiveEvent> | undefined;
  private cachedHeaders: HeaderMap | undefined;
  private cachedUrl: URL | undefined;
  private cachedJson: { value: unknown } | undefined;

  constructor(scope: HTTPScope, receive: Receive = noBody) {
    if (scope.type !== 'http') throw new TypeError(`Request needs an 'http' scope, not '${String((scope as { type?: unknown }).type)}'`);
    this.scope = scope;
    this.receive = receive;
  }

  get method(): string {
    return this.scope.method;
  }

  /**
   * The full URL: scheme, host (from the `host` header, else the server address), path and query.
   * `path` already includes `root_path`, as servers (tsgi's, uvicorn) fill it in.
   */
  get url(): URL {
    if (this.cachedUrl === undefined) {
      const { scheme = 'http', server, path, query_string: query } = this.scope;
      let host = this.headers.get('host');
      if (host === null) {
        host = server ? (server[1] === null ? server[0] : `${server[0]}:${server[1]}`) : 'localhost';
      }
      const search = query.length > 0 ? `?${fromLatin1(query)}` : '';
      this.cachedUrl = new URL(`${scheme}://${host}${encodeURI(path)}${search}`);
    }
    return this.cachedUrl;
  }

  get headers(): HeaderMap {
    return (this.cachedHeaders ??= new HeaderMap(this.scope.headers));
  }

  get query(): URLSearchParams {
    return this.url.searchParams;
  }

  /** Per-request state, shared by every middleware and the app (it lives in the scope). */
  get state(): Record<string, unknown> {
    return (this.scope.state ??= {});
  }

  /** The next message from the server, honouring one that `isDisconnected()` already took. */
  protected nextMessage(): Promise<ASGIReceiveEvent> {
    const peeked = this.peeked;
    if (peeked === undefined) return this.receive();
    this.peeked = undefined;
    return peeked;
  }

  /**
   * The body as it arrives, chunk by chunk; once. After `body()` it yields the cached body.
   * Throws `ClientDisconnect` if the client goes away first.
   */
  async *stream(): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.bodyCache !== undefined) {
      if (this.bodyCache.length > 0) yield this.bodyCache;
      return;
    }
    if (this.streamConsumed) throw new Error('the request body stream was already consumed');
    while (!this.streamConsumed) {
      const chunk = this.chunkOf(await this.nextMessage());
      if (chunk.length > 0) yield chunk;
    }
  }

  /** The body chunk a message from the server carries (empty if none); a disconnect throws. */
  private chunkOf(message: ASGIReceiveEvent): Uint8Array {
    if (message.type === 'http.request') {
      if (message.more_body !== true) this.streamConsumed = true;
      return message.body ?? EMPTY;
    }
    if (message.type === 'http.disconnect') {
      this.disconnected = true;
      throw new ClientDisconnect();
    }
    return EMPTY;
  }

  /** The whole body. Read once, then cached: call it as often as you like. */
  async body(): Promise<Uint8Array> {
    if (this.bodyCache === undefined) {
      if (this.streamConsumed) throw new Error('the request body stream was already consumed');
      // Straight from receive, not through stream(): a generator costs several turns per chunk.
      const first = this.chunkOf(await this.nextMessage());
      if (this.streamConsumed) {
        // The common case, a body in one message: no list to gather it in.
        this.bodyCache = first.length > 0 ? first : EMPTY;
      } else {
        const chunks: Uint8Array[] = first.length > 0 ? [first] : [];
        while (!this.streamConsumed) {
          const chunk = this.chunkOf(await this.nextMessage());
          if (chunk.length > 0) chunks.push(chunk);
        }
        this.bodyCache = chunks.length === 0 ? EMPTY : concat(chunks);
      }
    }
    return this.bodyCache;
  }

  async text(): Promise<string> {
    return utf8.decode(await this.body());
  }

  async json<T = unknown>(): Promise<T> {
    if (this.cachedJson === undefined) this.cachedJson = { value: JSON.parse(await this.text()) as unknown };
    return this.cachedJson.value as T;
  }

  /**
   * Whether the client has gone away. Looks at a message only if one is ready now; a body chunk
   * seen that way is kept for whoever reads the body next, so nothing is lost.
   */
  async isDisconnected(): Promise<boolean> {
    if (this.disconnected) return true;
    this.peeked ??= this.receive();
    const message = await Promise.race([this.peeked, nextTurn()]);
    if (message?.type === 'http.disconnect') this.disconnected = true;
    return this.disconnected;
  }
}
