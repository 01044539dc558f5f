/**
 * `TestClient`: runs an ASGI app in process, no socket, behind the fetch API. `client.fetch()`
 * resolves to a standard `Response` as soon as the app has started its response; the body then
 * streams as the app sends it. Aborting the request's `signal`, or cancelling the body, is the
 * client going away: the app's `receive()` answers `http.disconnect`.
 */
import { readFile } from 'node:fs/promises';
import type {
  ASGIReceiveEvent,
  ASGISendEvent,
  Header,
  HTTPDisconnectEvent,
  HTTPScope,
} from '../../generated/index.js';
import { fromLatin1 } from '../http/headers.js';
import { DISCONNECT } from '../http/protocol-constants.js';
import { ClientDisconnect } from '../http/request.js';
import { decodePath, encodeLatin1 } from '../http/target.js';
import type { ASGIApp } from '../protocol.js';
import { callApp } from '../server/call-app.js';
import { Lifespan } from '../server/lifespan.js';
import { validate } from '../validate/middleware.js';
import { openWebSocket, testWebSocketScope, type WebSocketConnectOptions, type WebSocketTestSession } from './websocket.js';

export interface TestClientOptions {
  /** Relative URLs resolve against it. Default `http://testserver`. */
  baseUrl?: string;
  /** Wrap the app in `validate`. Default true: tests are where protocol mistakes should surface. */
  validate?: boolean;
  /**
   * Raise the app's errors, as Starlette's TestClient does (default true). One thrown before the
   * response starts rejects `fetch` with that error, rather than becoming a 500 response; one
   * thrown after it, even after the last body, errors the response body, so `await res.text()`
   * rejects with it (the body ends only when the app call returns).
   */
  raiseAppErrors?: boolean;
  rootPath?: string;
  /** The `client` address in the scope. Default `['testclient', 50000]`. */
  client?: [string, number];
}

const EMPTY = new Uint8Array(0);
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const EXTENSIONS = Object.freeze({ 'http.response.trailers': {}, 'http.response.pathsend': {}, 'http.response.debug': {}, 'http.response.early_hint': {} });

/** One fetch: the exchange between the fake client and the app. */
class Exchange {
  private started = false;
  /** The app sent its last body (or trailers): receive() now answers http.disconnect. */
  private complete = false;
  /** A response without a body (HEAD, 204, 304), held back until the app returns. */
  private heldResponse: Response | undefined;
  private disconnected = false;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private bodySent: Uint8Array | undefined;
  private bodyDone = false;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** The response body stream was closed or errored: it takes nothing more. */
  private bodyClosed = false;
  private pulled: (() => void) | undefined;
  private over: Promise<HTTPDisconnectEvent>;
  private announceOver!: (message: HTTPDisconnectEvent) => void;
  private resolveResponse!: (response: Response) => void;
  private rejectResponse!: (error: unknown) => void;
  readonly response: Promise<Response>;

  constructor(
    private readonly request: Request,
    body: Uint8Array | ReadableStream<Uint8Array> | null,
  ) {
    this.over = new Promise((resolve) => {
      this.announceOver = resolve;
    });
    this.response = new Promise((resolve, reject) => {
      this.resolveResponse = resolve;
      this.rejectResponse = reject;
    });
    if (body instanceof ReadableStream) this.reader = body.getReader();
    else this.bodySent = body ?? EMPTY;
    request.signal.addEventListener('abort', () => this.disconnect(request.signal.reason), { once: true });
  }

  /** The client goes away. */
  disconnect(reason: unknown): void {
    if (this.disconnected || this.complete) return;
    this.disconnected = true;
    this.announceOver(DISCONNECT);
    this.pulled?.();
    if (!this.started || this.heldResponse !== undefined) this.rejectResponse(reason);
    else this.failBody(reason);
  }

  private failBody(reason: unknown): void {
    if (this.bodyClosed) return;
    this.bodyClosed = true;
    this.controller?.error(reason);
  }

  readonly receive = async (): Promise<ASGIReceiveEvent> => {
    if (this.disconnected || this.complete) return DISCONNECT;
    if (this.bodyDone) return this.over;
    if (this.bodySent !== undefined) {
      this.bodyDone = true;
      return { type: 'http.request', body: this.bodySent, more_body: false };
    }
    const step = await Promise.race([this.reader!.read(), this.over]);
    if ('type' in step) return step;
    if (step.done) {
      this.bodyDone = true;
      return { type: 'http.request', body: EMPTY, more_body: false };
    }
    return { type: 'http.request', body: step.value, more_body: true };
  };

  readonly send = async (message: ASGISendEvent): Promise<void> => {
    if (this.disconnected) throw new ClientDisconnect('the client disconnected; nothing more can be sent');
    switch (message.type) {
      case 'http.response.start': {
        this.started = true;
        const headers = new Headers();
        for (const [name, value] of message.headers ?? []) headers.append(fromLatin1(name), fromLatin1(value));
        const nullBody = NULL_BODY_STATUS.has(message.status) || this.request.method === 'HEAD';
        const body = nullBody ? null : new ReadableStream<Uint8Array>({
          start: (controller) => {
            this.controller = controller;
          },
          pull: () => {
            this.pulled?.();
          },
          cancel: (reason) => this.disconnect(reason),
        }, { highWaterMark: 1 });
        const response = new Response(body, { status: message.status, headers });
        // A body-less response has no stream to carry a later error: it is handed over when the
        // app returns, so that an error after the start still rejects fetch.
        if (body === null) this.heldResponse = response;
        else this.resolveResponse(response);
        return;
      }
      case 'http.response.body':
        return this.deliver(message.body ?? EMPTY, message.more_body === true);
      case 'http.response.pathsend':
        return this.deliver(new Uint8Array(await readFile(message.path)), false);
      case 'http.response.trailers':
        // The fetch API has no place for trailers; the response ends with the last of them.
        if (message.more_trailers !== true) this.finish();
        return;
      default:
        return; // early hints, debug info: nothing for a fetch client to show
    }
  };

  private async deliver(chunk: Uint8Array, more: boolean): Promise<void> {
    if (this.complete) return;
    const controller = this.controller;
    if (controller !== undefined && chunk.length > 0) {
      controller.enqueue(chunk);
      // Backpressure: the app's send waits while the reader has not taken what it has.
      if ((controller.desiredSize ?? 1) <= 0) {
        await new Promise<void>((resolve) => {
          this.pulled = resolve;
        });
        this.pulled = undefined;
        if (this.disconnected) throw new ClientDisconnect('the client disconnected; nothing more can be sent');
      }
    }
    if (!more) this.finish();
  }

  /**
   * The response is complete. Its body stream stays open until the app returns (`ended`), so
   * that an error the app throws afterwards still reaches the reader.
   */
  private finish(): void {
    if (this.complete) return;
    this.complete = true;
    this.announceOver(DISCONNECT);
  }

  /** The app returned or threw: settle whatever the client is still waiting for. */
  ended(error: unknown, raiseAppErrors: boolean): void {
    if (!this.started) {
      if (error === undefined) this.rejectResponse(new Error('the app returned without sending a response'));
      else if (raiseAppErrors) this.rejectResponse(error);
      else this.resolveResponse(new Response('Internal Server Error', { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } }));
    } else if (this.heldResponse !== undefined) {
      if (error !== undefined && raiseAppErrors) this.rejectResponse(error);
      else this.resolveResponse(this.heldResponse);
    } else if (!this.disconnected) {
      if (!this.complete) this.failBody(error ?? new Error('the app returned before completing its response'));
      else if (error !== undefined && raiseAppErrors) this.failBody(error);
      else this.closeBody();
    }
    this.finish();
  }

  private closeBody(): void {
    if (this.bodyClosed) return;
    this.bodyClosed = true;
    this.controller?.close();
  }
}

function toScopeHeaders(request: Request, url: URL, length: number | undefined): Header[] {
  const headers: Header[] = [];
  if (!request.headers.has('host')) headers.push([encodeLatin1('host'), encodeLatin1(url.host)]);
  for (const [name, value] of request.headers) headers.push([encodeLatin1(name), encodeLatin1(value)]);
  if (length !== undefined && !request.headers.has('content-length')) headers.push([encodeLatin1('content-length'), encodeLatin1(String(length))]);
  return headers;
}

export class TestClient {
  private readonly app: ASGIApp;
  private readonly baseUrl: string;
  private readonly options: TestClientOptions;
  private readonly running = new Set<Promise<void>>();
  private lifespanRunner: Lifespan | undefined;

  constructor(app: ASGIApp, options: TestClientOptions = {}) {
    this.options = options;
    this.app = validate(app, { enabled: options.validate ?? true });
    this.baseUrl = options.baseUrl ?? 'http://testserver';
  }

  /** Runs the app for one request. Accepts what the global fetch accepts; relative URLs are fine. */
  async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const request = input instanceof Request ? new Request(input, init) : new Request(new URL(input, this.baseUrl), init);
    const url = new URL(request.url);
    let body: Uint8Array | ReadableStream<Uint8Array> | null = null;
    let length: number | undefined;
    if (request.body !== null) {
      // A stream is passed on chunk by chunk; any other body is known whole, with its length.
      if (init?.body instanceof ReadableStream || (input instanceof Request && init?.body === undefined)) {
        body = request.body;
      } else {
        body = new Uint8Array(await request.arrayBuffer());
        length = body.length;
      }
    }
    const rootPath = this.options.rootPath ?? '';
    const scope: HTTPScope = {
      type: 'http',
      asgi: { version: '3.0', spec_version: '2.5' },
      http_version: '1.1',
      method: request.method,
      scheme: url.protocol.slice(0, -1),
      path: decodePath(url.pathname),
      raw_path: encodeLatin1(url.pathname),
      query_string: encodeLatin1(url.search.slice(1)),
      root_path: rootPath,
      headers: toScopeHeaders(request, url, length),
      client: this.options.client ?? ['testclient', 50000],
      server: [url.hostname, url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port)],
      extensions: EXTENSIONS,
    };
    if (this.lifespanRunner?.state !== undefined) scope.state = { ...this.lifespanRunner.state };

    const exchange = new Exchange(request, body);
    const raise = this.options.raiseAppErrors ?? true;
    const run = callApp(this.app, scope, exchange.receive, exchange.send).then(
      () => exchange.ended(undefined, raise),
      (error: unknown) => exchange.ended(error, raise),
    );
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return exchange.response;
  }

  /**
   * Opens a WebSocket to the app: resolves once it accepts, rejects with `WebSocketDenied` (a
   * `Response` inside) when it closes first or sends a denial response.
   */
  // async: a URL or header the scope cannot hold rejects, as fetch() does.
  async websocketConnect(url: string | URL, options: WebSocketConnectOptions = {}): Promise<WebSocketTestSession> {
    const context = { rootPath: this.options.rootPath ?? '', client: this.options.client ?? ['testclient', 50000] as [string, number], state: this.lifespanRunner?.state };
    const scope = testWebSocketScope(new URL(url, this.baseUrl), options, context);
    return openWebSocket(this.app, { scope, raiseAppErrors: this.options.raiseAppErrors ?? true, track: (run) => {
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    } });
  }

  /** Resolves once every app call made so far has returned: nothing is left running. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Lifespan startup; rejects if the app sends `lifespan.startup.failed`. */
  async startup(): Promise<void> {
    this.lifespanRunner = new Lifespan(this.app, 'auto', { info: () => {}, warn: () => {} });
    await this.lifespanRunner.startup();
  }

  async shutdown(): Promise<void> {
    await this.lifespanRunner?.shutdown();
  }

  /** Runs `block` between lifespan startup and shutdown. */
  async lifespan<T>(block: () => Promise<T>): Promise<T> {
    await this.startup();
    try {
      return await block();
    } finally {
      await this.shutdown();
    }
  }

  /** The state the app filled during lifespan startup. */
  get state(): Record<string, unknown> | undefined {
    return this.lifespanRunner?.state;
  }
}
