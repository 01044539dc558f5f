/**
 * One request through `toFetchHandler`: the `receive` and `send` the app gets, and the `Response`
 * they build. The start is held until the first body, so a body sent in one piece becomes a plain
 * `Response(bytes)` (no stream, the runtime sets its length); a streamed one becomes a
 * `ReadableStream` whose `send()` waits until the runtime has pulled the chunk before.
 */
import type { ASGISendEvent, Header, HTTPDisconnectEvent, HTTPReceiveEvent } from '../../generated/index.js';
import { DISCONNECT } from '../http/protocol-constants.js';
import { ClientDisconnect } from '../http/request.js';
import { decodeLatin1 } from '../http/target.js';

const EMPTY = new Uint8Array(0);
/** What `new Response` takes, in Node's types and in the DOM's (whose `BodyInit` wants an ArrayBuffer-backed view). */
type ResponseBody = ConstructorParameters<typeof Response>[0];
const NO_MORE_BODY: HTTPReceiveEvent = Object.freeze({ type: 'http.request', body: EMPTY, more_body: false }) as HTTPReceiveEvent;
const resolved: Promise<void> = Promise.resolve();

/** A class that builds the `Response`: the global one, or a runtime's own lighter one. */
export type ResponseClass = new (body: ResponseBody, init: ResponseInit) => Response;

/** Statuses the `Response` constructor refuses a body for (null body statuses, Fetch 2.2.3). */
function nullBodyStatus(status: number): boolean {
  return status === 101 || status === 103 || status === 204 || status === 205 || status === 304;
}

/** An app's response the fetch API cannot express; it becomes a 500, and the reason is logged. */
export class UnsendableResponse extends Error {
  override readonly name = 'UnsendableResponse';
}

/**
 * The app's headers as string pairs. A body known whole gets a `content-length` when the app gave
 * none: Bun and Deno add it themselves, but Node's fetch servers (srvx) would otherwise stream it
 * chunked.
 */
function toHeaderPairs(headers: readonly Header[], contentLength: number): [string, string][] {
  const pairs = new Array<[string, string]>(headers.length);
  let hasLength = false;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    const pair: [string, string] = [decodeLatin1(name), decodeLatin1(value)];
    if (name.length === 14 && pair[0].toLowerCase() === 'content-length') hasLength = true;
    pairs[i] = pair;
  }
  if (contentLength >= 0 && !hasLength) pairs.push(['content-length', String(contentLength)]);
  return pairs;
}

export class FetchExchange {
  /** The app sent `http.response.start`. */
  started = false;
  /** The Response has been handed to the runtime (the start cannot be taken back). */
  responded = false;
  complete = false;
  disconnected = false;

  private status = 200;
  private headers: readonly Header[] = [];
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** The last `http.request` has been handed to the app. */
  private bodyDone = false;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private pulled: (() => void) | undefined;
  private over: Promise<HTTPDisconnectEvent> | undefined;
  private announceOver: ((message: HTTPDisconnectEvent) => void) | undefined;
  private listening = false;
  /** Why the app's response could not become a Response, for the log. */
  failure: UnsendableResponse | undefined;
  private respond!: (response: Response) => void;
  readonly response: Promise<Response>;

  constructor(
    private readonly request: Request,
    /** Undefined: the global `Response`, looked up per response (a server may have replaced it). */
    private readonly responseClass: ResponseClass | undefined,
  ) {
    this.response = new Promise((resolve) => {
      this.respond = resolve;
    });
  }

  /** The client went away (the request's signal aborted, or the runtime cancelled the body). */
  private readonly disconnect = (): void => {
    if (this.disconnected || this.complete) return;
    this.disconnected = true;
    this.announceOver?.(DISCONNECT);
    this.pulled?.();
    if (this.reader !== undefined) this.reader.cancel().catch(() => {});
  };

  /**
   * Resolves with http.disconnect once the response is complete or the client is gone. The abort
   * listener is added only here, when an app first waits for it: apps that never do pay nothing.
   */
  private whenOver(): Promise<HTTPDisconnectEvent> {
    this.listen();
    if (this.disconnected || this.complete) return Promise.resolve(DISCONNECT);
    return (this.over ??= new Promise((resolve) => {
      this.announceOver = resolve;
    }));
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    const signal = this.request.signal;
    if (signal.aborted) this.disconnect();
    else signal.addEventListener('abort', this.disconnect, { once: true });
  }

  readonly receive = (): Promise<HTTPReceiveEvent> => {
    if (this.disconnected || this.complete) return Promise.resolve(DISCONNECT);
    if (this.bodyDone) return this.whenOver();
    if (this.request.body === null) {
      this.bodyDone = true;
      return Promise.resolve(NO_MORE_BODY);
    }
    return this.readChunk();
  };

  private async readChunk(): Promise<HTTPReceiveEvent> {
    // Each receive() reads one chunk: the runtime reads from the client only as the app asks.
    this.reader ??= this.request.body!.getReader();
    let step: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;
    try {
      step = await this.reader.read();
    } catch {
      // The body stream failed: the client aborted mid-upload.
      this.disconnected = true;
      return DISCONNECT;
    }
    if (this.disconnected) return DISCONNECT;
    if (step.done) {
      this.bodyDone = true;
      return NO_MORE_BODY;
    }
    return { type: 'http.request', body: step.value, more_body: true };
  }

  readonly send = (message: ASGISendEvent): Promise<void> => {
    if (this.disconnected) return Promise.reject(new ClientDisconnect('the client disconnected; nothing more can be sent'));
    switch (message.type) {
      case 'http.response.start':
        if (this.started) return Promise.reject(this.unexpected(message.type));
        this.started = true;
        this.status = message.status;
        this.headers = message.headers ?? [];
        return resolved;
      case 'http.response.body':
        if (!this.started || this.complete) return Promise.reject(this.unexpected(message.type));
        try {
          return this.body(message.body ?? EMPTY, message.more_body === true);
        } catch (error) {
          return Promise.reject(error);
        }
      default:
        // Nothing else was offered in scope.extensions: the fetch API cannot carry it.
        return Promise.reject(this.unexpected((message as { type?: unknown }).type));
    }
  };

  private unexpected(type: unknown): Error {
    const got = typeof type === 'string' ? type : String(type);
    if (!this.started) return new Error(`Expected ASGI message 'http.response.start', but got '${got}'`);
    if (this.complete) return new Error(`Unexpected ASGI message '${got}' sent, after response already completed`);
    return new Error(`Expected ASGI message 'http.response.body', but got '${got}'`);
  }

  private body(chunk: Uint8Array, more: boolean): Promise<void> {
    if (!this.responded) {
      if (this.failure !== undefined) throw this.failure;
      if (!more) {
        this.hand(chunk.length > 0 ? chunk : null, false);
        this.complete = true;
        this.announceOver?.(DISCONNECT);
        return resolved;
      }
      this.hand(null, true);
    }
    const controller = this.controller;
    if (!more) {
      this.complete = true;
      this.announceOver?.(DISCONNECT);
    }
    if (controller === undefined) return resolved; // a body the status or method does not carry
    if (chunk.length > 0) controller.enqueue(chunk);
    if (!more) {
      controller.close();
      return resolved;
    }
    // Backpressure: the app's send() waits while the runtime has not taken the chunk before.
    if ((controller.desiredSize ?? 1) > 0) return resolved;
    this.listen();
    if (this.disconnected) return Promise.reject(new ClientDisconnect('the client disconnected; nothing more can be sent'));
    return new Promise<void>((resolve, reject) => {
      this.pulled = () => {
        this.pulled = undefined;
        if (this.disconnected) reject(new ClientDisconnect('the client disconnected; nothing more can be sent'));
        else resolve();
      };
    });
  }

  /** Builds the Response and hands it to the runtime; on failure, `ended` answers 500 instead. */
  private hand(bytes: Uint8Array | null, stream: boolean): void {
    const status = this.status;
    if (status < 200 || status > 599) {
      throw (this.failure = new UnsendableResponse(`status ${status} cannot be sent through the fetch API (it takes 200 to 599)`));
    }
    // HEAD and the null body statuses go without a body (the Response constructor refuses one
    // for the latter); the app's headers, content-length included, go as they are.
    const noBody = nullBodyStatus(status) || this.request.method === 'HEAD';
    let body: Uint8Array | ReadableStream<Uint8Array> | null = noBody ? null : bytes;
    if (stream && !noBody) {
      body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => {
          this.pulled?.();
        },
        cancel: this.disconnect,
      }, { highWaterMark: 1 });
    }
    let response: Response;
    try {
      const length = stream || noBody ? -1 : bytes === null ? 0 : bytes.length;
      const ResponseClass = this.responseClass ?? Response;
      response = new ResponseClass(body as ResponseBody, { status, headers: toHeaderPairs(this.headers, length) });
    } catch (error) {
      // Headers the fetch API refuses (a CR or LF in a value, a name that is not a token).
      this.controller = undefined;
      throw (this.failure = new UnsendableResponse(`the response cannot be sent through the fetch API: ${error instanceof Error ? error.message : String(error)}`));
    }
    this.responded = true;
    this.respond(response);
  }

  /** The app returned or threw. Settles the Response if it was never handed over. */
  ended(error: unknown): void {
    if (!this.responded) {
      this.responded = true;
      this.respond(new Response('Internal Server Error', { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } }));
    } else if (!this.complete && !this.disconnected && this.controller !== undefined) {
      // A response that started cannot be finished honestly: the runtime aborts it.
      this.controller.error(error ?? new Error('the app returned before completing its response'));
      this.controller = undefined;
    }
    this.complete = true;
    this.announceOver?.(DISCONNECT);
  }
}
