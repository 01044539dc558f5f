/**
 * Responses. Each one is itself an ASGI app: `await response(scope, receive, send)` sends it,
 * then runs its background tasks. So a response can be returned from a middleware's `dispatch`
 * or served directly.
 */
import type { HTTPResponseBodyEvent, Scope } from '../../generated/index.js';
import type { ASGIApp, Receive, Send } from '../protocol.js';
import { MutableHeaderMap, type HeadersInit } from './headers.js';
import { statusHasBody } from './protocol-constants.js';

/** Work to run after the response has been sent in full: one function or several, in order. */
export type Background = (() => unknown) | readonly (() => unknown)[];

export interface ResponseInit {
  status?: number;
  headers?: HeadersInit;
  /** The `content-type`, without parameters; `text/*` types get `; charset=utf-8`. */
  mediaType?: string;
  background?: Background;
}

const utf8 = new TextEncoder();
const EMPTY = new Uint8Array(0);

export function toBytes(chunk: string | Uint8Array): Uint8Array {
  return typeof chunk === 'string' ? utf8.encode(chunk) : chunk;
}

/** Makes `target` callable as an ASGI app that sends it, keeping its class's prototype. */
function callable<T extends Response>(prototype: object): T {
  const app = function (scope: Scope, receive: Receive, send: Send): Promise<void> {
    return app.respond(scope, receive, send);
  } as unknown as T;
  Object.setPrototypeOf(app, prototype);
  return app;
}

// A response is a callable object: its type is the class and an ASGI app at once.
export interface Response extends ASGIApp {}

/** A response with its whole body in memory. */
export class Response {
  declare status: number;
  declare readonly headers: MutableHeaderMap;
  declare mediaType: string | undefined;
  declare background: Background | undefined;
  declare body: Uint8Array;

  /**
   * Whether instances are callable ASGI apps. A subclass whose instances are only ever sent by
   * tsgi itself can say no and skip the cost of a callable instance.
   */
  protected static callable = true;

  constructor(body?: string | Uint8Array | null, init: ResponseInit = {}) {
    // The object returned here is the instance: a function, so that it can be served as an app.
    const self = (new.target as typeof Response).callable ? callable<Response>(new.target.prototype) : this;
    self.status = init.status ?? 200;
    (self as { headers: MutableHeaderMap }).headers = new MutableHeaderMap(init.headers);
    self.mediaType = init.mediaType ?? (new.target as { defaultMediaType?: string }).defaultMediaType;
    self.background = init.background;
    self.body = body === undefined || body === null ? EMPTY : toBytes(body);
    self.initHeaders(body !== undefined && body !== null);
    return self;
  }

  /** Fills in `content-type` and `content-length` unless the caller gave them. */
  protected initHeaders(hasBody: boolean): void {
    const headers = this.headers;
    if (this.mediaType !== undefined && !headers.has('content-type')) {
      const charset = this.mediaType.startsWith('text/') && !this.mediaType.includes('charset') ? '; charset=utf-8' : '';
      headers.set('content-type', this.mediaType + charset);
    }
    if (hasBody && statusHasBody(this.status) && !headers.has('content-length')) {
      headers.set('content-length', String(this.body.length));
    }
  }

  /** Sends this response, then runs its background tasks. */
  async respond(_scope: Scope, _receive: Receive, send: Send): Promise<void> {
    await send({ type: 'http.response.start', status: this.status, headers: this.headers.raw });
    await send({ type: 'http.response.body', body: this.body });
    if (this.background !== undefined) await this.runBackground();
  }

  protected async runBackground(): Promise<void> {
    const tasks = this.background;
    if (tasks === undefined) return;
    if (typeof tasks === 'function') await tasks();
    else for (const task of tasks as readonly (() => unknown)[]) await task();
  }
}

export class PlainTextResponse extends Response {
  static defaultMediaType = 'text/plain';
}

export class JSONResponse extends Response {
  static defaultMediaType = 'application/json';

  constructor(content: unknown, init: ResponseInit = {}) {
    const text = JSON.stringify(content);
    if (text === undefined) throw new TypeError('JSONResponse: the content has no JSON form');
    super(text, init);
  }
}

export type StreamingBody = Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;

/**
 * A response whose body comes from an iterable, sent chunk by chunk as it is produced. When the
 * client disconnects it stops pulling and closes the iterator, so a generator's `finally` runs.
 */
export class StreamingResponse extends Response {
  declare bodyIterator: StreamingBody;

  constructor(content: StreamingBody, init: ResponseInit = {}) {
    super(null, init);
    this.bodyIterator = content;
  }

  override async respond(_scope: Scope, receive: Receive, send: Send): Promise<void> {
    let disconnected = false;
    // Watch for the client leaving while the body streams. When the stream ends first, this
    // receive() stays pending until the server answers it; a server answers receive() after
    // the response with http.disconnect, as the spec requires.
    void (async () => {
      for (;;) {
        const message = await receive();
        if (message.type === 'http.disconnect') {
          disconnected = true;
          return;
        }
      }
    })().catch(() => {
      disconnected = true;
    });

    await send({ type: 'http.response.start', status: this.status, headers: this.headers.raw });
    const iterator = Symbol.asyncIterator in this.bodyIterator
      ? (this.bodyIterator as AsyncIterable<string | Uint8Array>)[Symbol.asyncIterator]()
      : (this.bodyIterator as Iterable<string | Uint8Array>)[Symbol.iterator]();
    let finished = false;
    try {
      for (;;) {
        const step = await iterator.next();
        if (step.done === true) {
          finished = true;
          break;
        }
        if (disconnected) break;
        const chunk: HTTPResponseBodyEvent = { type: 'http.response.body', body: toBytes(step.value), more_body: true };
        await send(chunk);
        if (disconnected) break;
      }
    } finally {
      // Stopped early (disconnect, or a failed send): close the iterator so its cleanup runs.
      if (!finished) await iterator.return?.();
    }
    if (!disconnected) await send({ type: 'http.response.body', body: EMPTY, more_body: false });
    if (this.background !== undefined) await this.runBackground();
  }
}
