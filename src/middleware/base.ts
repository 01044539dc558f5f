/**
 * `baseHTTPMiddleware(app, dispatch)`: middleware written as `dispatch(request, callNext)`, with
 * the semantics Starlette reached in PR #1715. The downstream app is never abandoned: once the
 * response is sent, its `receive()` answers `http.disconnect` and its `send()` returns at once,
 * so it runs to the end (its `finally` blocks, its background tasks), and the middleware
 * resolves only after it has.
 */
import type {
  ASGIReceiveEvent,
  HTTPDisconnectEvent,
  HTTPResponseDebugEvent,
  HTTPResponseStartEvent,
  HTTPScope,
  HTTPSendEvent,
} from '../../generated/index.js';
import { DISCONNECT } from '../http/protocol-constants.js';
import { ClientDisconnect, Request } from '../http/request.js';
import { Response, StreamingResponse } from '../http/response.js';
import type { ASGIApp, Receive, Send } from '../protocol.js';
import { END, NOTHING, Rendezvous } from './rendezvous.js';

export type CallNext = (request: Request) => Promise<Response>;
export type Dispatch = (request: Request, callNext: CallNext) => Promise<Response>;

const EMPTY = new Uint8Array(0);

/**
 * The request `dispatch` sees. Its `replay` is the downstream app's view of the body: what
 * dispatch already read is handed over again, and the rest is read on from the client.
 */
class CachedRequest extends Request {
  /** The downstream has been told http.disconnect. */
  private replayDisconnected = false;
  /** The downstream has the whole body; only a disconnect is left to tell it. */
  private replayConsumed = false;

  private replayFn: Receive | undefined;

  /** `replay` as a function of its own, to hand out as a `receive`. */
  get replay(): Receive {
    return (this.replayFn ??= () => this.replayNext());
  }

  private async replayNext(): Promise<ASGIReceiveEvent> {
    // Told already: say it again, without asking the client.
    if (this.replayDisconnected) return DISCONNECT;
    // The body is all delivered: wait for the client to leave (unless it has).
    if (this.replayConsumed) {
      if (!this.disconnected) {
        const message = await this.nextMessage();
        if (message.type !== 'http.disconnect') throw new Error(`server sent '${message.type}' after the request body was complete`);
        this.disconnected = true;
      }
      this.replayDisconnected = true;
      return DISCONNECT;
    }
    // dispatch read the body whole: hand it over in one piece, even if the client has gone.
    if (this.bodyCache !== undefined) {
      this.replayConsumed = true;
      return { type: 'http.request', body: this.bodyCache, more_body: false };
    }
    // dispatch streamed the body to its end: nothing is left, and saying so keeps the app from waiting.
    if (this.streamConsumed) {
      this.replayConsumed = true;
      return { type: 'http.request', body: EMPTY, more_body: false };
    }
    // Nobody has read (all of) it: pass on the client's next chunk.
    try {
      const step = await this.stream().next();
      this.replayConsumed = this.streamConsumed;
      return { type: 'http.request', body: step.done === true ? EMPTY : step.value, more_body: !this.streamConsumed };
    } catch (error) {
      if (!(error instanceof ClientDisconnect)) throw error;
      this.replayDisconnected = true;
      return DISCONNECT;
    }
  }
}

/** One run of the downstream app, from the side of the middleware call that started it. */
class Downstream {
  readonly channel = new Rendezvous<HTTPSendEvent>();
  /** Settles when the downstream app has returned or thrown. */
  done: Promise<void> | undefined;
  failed = false;
  error: unknown;
  /** The downstream's error has reached someone (callNext's caller, or the client's response). */
  errorSeen = false;
  /** The downstream has been handed http.disconnect. */
  sawDisconnect = false;
  private responseSent = false;
  private announceSent: ((message: HTTPDisconnectEvent) => void) | undefined;
  private sentSignal: Promise<HTTPDisconnectEvent> | undefined;

  constructor(
    private readonly app: ASGIApp,
    private readonly scope: HTTPScope,
    private readonly request: CachedRequest,
  ) {}

  private start(): void {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    // One microtask later, so that the app runs in an async context of its own: what dispatch
    // set in AsyncLocalStorage flows in, and what the app sets with enterWith stays there.
    await undefined;
    try {
      await this.app(this.scope, this.receive, this.send);
    } catch (error) {
      this.failed = true;
      this.error = error;
    } finally {
      this.channel.end();
    }
  }

  private readonly receive: Receive = async () => {
    if (!this.responseSent) {
      const message = await Promise.race([this.request.replay(), this.whenResponseSent()]);
      if (!this.responseSent) {
        if (message.type === 'http.disconnect') this.sawDisconnect = true;
        return message;
      }
    }
    // The response is out: the downstream's work can only be discarded, and it is told so.
    this.sawDisconnect = true;
    return DISCONNECT;
  };

  // After close() the channel drops messages and resolves at once: a send never blocks then.
  private readonly send: Send = (message) => this.channel.send(message as HTTPSendEvent);

  private whenResponseSent(): Promise<HTTPDisconnectEvent> {
    return (this.sentSignal ??= new Promise((resolve) => {
      this.announceSent = resolve;
    }));
  }

  /** callNext's promise has settled (see the middleware's finally). */
  responseSettled = false;

  /** Starts the app and resolves to its response once it has sent `http.response.start`. */
  async response(): Promise<Response> {
    try {
      this.start();
      let message = await this.channel.next();
      let debug: HTTPResponseDebugEvent | undefined;
      if (message !== END && message.type === 'http.response.debug') {
        debug = message;
        message = await this.channel.next();
      }
      if (message === END) {
        if (this.failed) {
          this.errorSeen = true;
          throw this.error;
        }
        throw new Error("No response returned: the downstream app finished without sending 'http.response.start'");
      }
      if (message.type !== 'http.response.start') {
        throw new Error(`the downstream app sent '${message.type}' before 'http.response.start'`);
      }
      const response = new CallNextResponse(message, this, debug);
      // The start is dealt with: let the app go on to its first body chunk.
      this.channel.ack();
      return response;
    } finally {
      this.responseSettled = true;
    }
  }

  /** The response is sent (or never will be): release the downstream from every wait. */
  responseDone(): void {
    this.responseSent = true;
    this.announceSent?.(DISCONNECT);
    this.channel.close();
  }

  /** The downstream ended before finishing its response: say why, unless the client had left. */
  incomplete(): void {
    if (this.failed) {
      this.errorSeen = true;
      throw this.error;
    }
    if (this.sawDisconnect) return;
    throw new Error('the downstream app returned before completing its response');
  }
}

function isLastMessage(message: HTTPSendEvent, trailers: boolean): boolean {
  switch (message.type) {
    case 'http.response.body':
    case 'http.response.zerocopysend':
      return message.more_body !== true && !trailers;
    case 'http.response.pathsend':
      return !trailers;
    case 'http.response.trailers':
      return message.more_trailers !== true;
    default:
      return false;
  }
}

async function* bodyOf(downstream: Downstream, trailers: boolean): AsyncGenerator<Uint8Array, void, undefined> {
  for (;;) {
    const message = await downstream.channel.next();
    if (message === END) return downstream.incomplete();
    if (message.type === 'http.response.body' && message.body !== undefined && message.body.length > 0) yield message.body;
    if (isLastMessage(message, trailers) || (message.type === 'http.response.body' && message.more_body !== true)) return;
  }
}

/**
 * What `callNext` resolves to: the downstream's response, started but not yet sent. Sending it
 * relays the downstream's own messages, as they are, one at a time; reading `bodyIterator`
 * pulls the body instead.
 */
class CallNextResponse extends StreamingResponse {
  // Sent by the middleware itself (respond()), never served on its own: no callable instance.
  protected static override callable = false;
  declare private readonly downstream: Downstream;
  declare private readonly start: HTTPResponseStartEvent;
  declare private readonly debug: HTTPResponseDebugEvent | undefined;

  constructor(start: HTTPResponseStartEvent, downstream: Downstream, debug: HTTPResponseDebugEvent | undefined) {
    super([], { status: start.status, headers: start.headers ?? [] });
    // The response is its own body iterable: a generator is made only if someone reads the body.
    this.bodyIterator = this;
    this.downstream = downstream;
    this.start = start;
    this.debug = debug;
  }

  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    return bodyOf(this.downstream, this.start.trailers === true);
  }

  override async respond(_scope: unknown, _receive: unknown, send: Send): Promise<void> {
    const { start, downstream } = this;
    const trailers = start.trailers === true;
    if (this.debug !== undefined) await send(this.debug);
    // Untouched by dispatch, the downstream's own start goes out as it is.
    await send(this.status === start.status && this.headers.raw === start.headers
      ? start
      : { type: 'http.response.start', status: this.status, headers: this.headers.raw, trailers });
    for (;;) {
      const waiting = downstream.channel.take();
      const message = waiting !== NOTHING ? waiting : await downstream.channel.next();
      if (message === END) {
        // Never complete a response the downstream did not finish: the server must abort it.
        downstream.incomplete();
        return;
      }
      await send(message);
      if (isLastMessage(message, trailers)) break;
    }
    if (this.background !== undefined) await this.runBackground();
  }
}

/**
 * Wraps `app` in `dispatch`. `callNext(request)` runs `app` and resolves, once `app` has sent
 * `http.response.start`, to its response, whose body streams from `app` as it is read. Scopes
 * other than `http` go straight to `app`.
 */
export function baseHTTPMiddleware(app: ASGIApp, dispatch: Dispatch): ASGIApp {
  return async function middleware(scope, receive, send): Promise<void> {
    if (scope.type !== 'http') return app(scope, receive, send);
    const request = new CachedRequest(scope, receive);
    const downstream = new Downstream(app, scope, request);

    let called: Promise<Response> | undefined;
    const callNext: CallNext = () => {
      if (called !== undefined) return Promise.reject(new Error('callNext was already called for this request'));
      return (called = downstream.response());
    };

    try {
      const response = await dispatch(request, callNext);
      if (!(response instanceof Response)) {
        throw new TypeError(`dispatch must return a Response (got ${response === null ? 'null' : typeof response}); did it forget to return callNext's result?`);
      }
      await response.respond(scope, request.replay, send);
    } finally {
      // Whatever happened (sent, dispatch threw, the client went away), release the downstream
      // and wait for it: no work is left behind as a dangling promise.
      downstream.responseDone();
      // A dispatch that did not await callNext may leave it to reject now that the response is
      // out. Nobody can observe that any more, and an unhandled rejection would end the process.
      if (called !== undefined && !downstream.responseSettled) called.catch(() => {});
      await downstream.done;
    }
    if (downstream.failed && !downstream.errorSeen) throw downstream.error;
  };
}
