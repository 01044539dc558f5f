/**
 * One run of the downstream app, from the side of the middleware call that started it.
 *
 * Its messages take one of two roads. The fast one serves what most dispatches do, return the
 * response from callNext with its headers or status changed or not: the downstream's start
 * waits (as a value) until dispatch has returned, then goes out rewritten, and every later
 * message goes straight on through the middleware's own `send` (under another middleware, with
 * no promise of its own). The channel is built only when dispatch iterates the body or attaches
 * background tasks: from then on the downstream's messages go into a Rendezvous that the
 * response pulls from.
 *
 * Whichever road, the downstream is never abandoned: once the response is sent (or never will
 * be), its `receive()` answers `http.disconnect` and its `send()` returns at once, so it runs to
 * its end, and the middleware resolves only after it has.
 */
import type {
  ASGIReceiveEvent,
  HTTPDisconnectEvent,
  HTTPResponseDebugEvent,
  HTTPScope,
  HTTPSendEvent,
} from '../../generated/index.js';
import { DISCONNECT } from '../http/protocol-constants.js';
import type { Request } from '../http/request.js';
import type { Response } from '../http/response.js';
import type { ASGIApp, Receive, Send } from '../protocol.js';
import type { CachedRequest } from './cached-request.js';
import { CallNextResponse } from './call-next-response.js';
import { isLastMessage } from './last-message.js';
import { NOTHING, Rendezvous } from './rendezvous.js';

/**
 * What a send that was taken at once returns. A middleware below that gets it back from this
 * one's send knows that no promise needs waiting for, and goes on in the same turn.
 */
const RESOLVED: Promise<void> = Promise.resolve();
const ignore = (): void => {};
/** Marks a Downstream's send, so that a middleware below knows it faces another middleware. */
const PASSES_ON: unique symbol = Symbol('baseHTTPMiddleware send');
type MarkedSend = Send & { [PASSES_ON]?: true };

// Where the downstream's messages go (`Downstream.mode`).
/** callNext is waiting for `http.response.start`. */
const STARTING = 0;
/** dispatch holds the response: a message sent now waits, one at most. */
const STARTED = 1;
/** dispatch returned the response: its start is on its way to the client; messages still wait. */
const FLUSHING = 2;
/** Messages go straight to the client. */
const PASSING = 3;
/** dispatch iterates the body: messages go through the channel. */
const CHANNEL = 4;
/** The response is complete, or will never be: messages are dropped. */
const CLOSED = 5;
type Mode = typeof STARTING | typeof STARTED | typeof FLUSHING | typeof PASSING | typeof CHANNEL | typeof CLOSED;

export class Downstream {
  private mode: Mode = STARTING;
  /** The channel, once dispatch has iterated the body. */
  private channel: Rendezvous<HTTPSendEvent> | undefined = undefined;
  /** Settles when the downstream app has returned or thrown, and that is recorded here. */
  done: Promise<void> | undefined = undefined;
  /**
   * The app's own promise, once it has started. The fast path waits on it rather than on `done`:
   * one turn less, and `run` still records the end first (it waits on it from earlier).
   */
  running: Promise<void> | undefined = undefined;
  private ended = false;
  failed = false;
  error: unknown = undefined;
  /** The downstream's error has reached someone (callNext's caller, or the client's response). */
  errorSeen = false;
  /** The downstream has been handed http.disconnect. */
  private sawDisconnect = false;
  /** On the fast path, the last message of the response has gone to the client. */
  private completed = false;
  /** On the fast path, a send to the client or a background task of dispatch's failed with `relayError`. */
  private relayFailed = false;
  private relayError: unknown = undefined;
  private responseSent = false;
  private announceSent: ((message: HTTPDisconnectEvent) => void) | undefined = undefined;
  private sentSignal: Promise<HTTPDisconnectEvent> | undefined = undefined;

  private debug: HTTPResponseDebugEvent | undefined = undefined;
  private response: CallNextResponse | undefined = undefined;
  private trailers = false;
  /** callNext's promise, and how to settle it. */
  private called: Promise<Response> | undefined = undefined;
  private settled = false;
  private resolveResponse: ((response: Response) => void) | undefined = undefined;
  private rejectResponse: ((error: unknown) => void) | undefined = undefined;
  /** The message the downstream sent while dispatch held the response, and its sender's promise. */
  private held: HTTPSendEvent | typeof NOTHING = NOTHING;
  private heldRelease: (() => void) | undefined = undefined;
  private heldReject: ((error: unknown) => void) | undefined = undefined;

  /** `outer` is the send of another middleware's Downstream, which deals with a refused send itself. */
  private readonly outerPasses: boolean;
  private refusedFn: ((error: unknown) => void) | undefined = undefined;

  constructor(
    private readonly app: ASGIApp,
    private readonly scope: HTTPScope,
    private readonly request: CachedRequest,
    /** The middleware's own send, to its client. */
    private readonly outer: Send,
  ) {
    (this.send as MarkedSend)[PASSES_ON] = true;
    this.outerPasses = (outer as MarkedSend)[PASSES_ON] === true;
  }

  /** Starts the app; resolves to its response once it has sent `http.response.start`. */
  readonly callNext = (_request: Request): Promise<Response> => {
    if (this.called !== undefined) return Promise.reject(new Error('callNext was already called for this request'));
    this.called = new Promise<Response>((resolve, reject) => {
      this.resolveResponse = resolve;
      this.rejectResponse = reject;
    });
    this.done = this.run();
    return this.called;
  };

  private async run(): Promise<void> {
    // One microtask later, so that the app runs in an async context of its own: what dispatch
    // set in AsyncLocalStorage flows in, and what the app sets with enterWith stays there.
    await undefined;
    try {
      const running = Promise.resolve(this.app(this.scope, this.receive, this.send));
      this.running = running;
      await running;
    } catch (error) {
      this.failed = true;
      this.error = error;
    } finally {
      this.ended = true;
      if (this.mode === STARTING) this.failResponse();
      else if (this.mode === CHANNEL) this.channel!.end();
    }
  }

  /** callNext rejects: with the downstream's error, or because it sent no response. */
  private failResponse(reason?: Error): void {
    if (this.settled) return;
    this.settled = true;
    if (reason === undefined && this.failed) {
      this.errorSeen = true;
      this.rejectResponse!(this.error);
    } else {
      this.rejectResponse!(reason ?? new Error("No response returned: the downstream app finished without sending 'http.response.start'"));
    }
  }

  private readonly send: Send = (message) => {
    switch (this.mode) {
      case PASSING:
        return this.pass(message as HTTPSendEvent);
      case STARTING:
        return this.first(message as HTTPSendEvent);
      case CHANNEL:
        return this.channel!.send(message as HTTPSendEvent);
      case CLOSED:
        return RESOLVED;
      default:
        return this.hold(message as HTTPSendEvent);
    }
  };

  /** The downstream's first messages: an optional debug, then the start that settles callNext. */
  private first(message: HTTPSendEvent): Promise<void> {
    if (message.type === 'http.response.start') {
      const response = new CallNextResponse(message, this, this.debug);
      this.response = response;
      this.trailers = message.trailers === true;
      this.mode = STARTED;
      this.settled = true;
      this.resolveResponse!(response);
      // The start is dealt with: the app goes on to its first body chunk, which waits.
      return RESOLVED;
    }
    if (message.type === 'http.response.debug' && this.debug === undefined) {
      this.debug = message;
      return RESOLVED;
    }
    this.mode = STARTED;
    this.failResponse(new Error(`the downstream app sent '${message.type}' before 'http.response.start'`));
    return this.hold(message);
  }

  /** Keeps `message` until dispatch is done with the response: one in flight at most, as with a channel. */
  private hold(message: HTTPSendEvent): Promise<void> {
    if (this.held !== NOTHING) return Promise.reject(new Error('send() was called again before the previous send() had resolved'));
    return new Promise<void>((resolve, reject) => {
      this.held = message;
      this.heldRelease = resolve;
      this.heldReject = reject;
    });
  }

  /** dispatch iterates the body: from now on the downstream's messages go through a channel. */
  upgrade(): Rendezvous<HTTPSendEvent> {
    if (this.mode === CHANNEL) return this.channel!;
    if (this.mode !== STARTED) throw new Error('the response from callNext is already being sent: its body can no longer be read');
    const channel = new Rendezvous<HTTPSendEvent>();
    this.channel = channel;
    this.mode = CHANNEL;
    const held = this.held;
    if (held !== NOTHING) {
      const release = this.heldRelease!;
      this.held = NOTHING;
      this.heldRelease = this.heldReject = undefined;
      channel.put(held, release);
    }
    if (this.ended) channel.end();
    return channel;
  }

  /**
   * dispatch returned `response`. If it is callNext's, untouched in body, it goes out on the
   * fast path and this returns true; otherwise the caller sends it.
   */
  takes(response: Response): boolean {
    // Background tasks go the channel's way: they run in the middleware's own async context after
    // the last message, where AsyncLocalStorage values the app set cannot reach them.
    if (response !== this.response || this.mode !== STARTED || response.background !== undefined) return false;
    this.mode = FLUSHING;
    const start = this.response.startToSend();
    if (this.debug !== undefined) {
      void this.outer(this.debug).then(() => this.startOut(this.outer(start)), (error: unknown) => this.sendFailed(error));
    } else {
      this.startOut(this.outer(start));
    }
    return true;
  }

  /** The start is on its way: once the client has it, the waiting message follows, and the rest pass straight. */
  private startOut(sent: Promise<void>): void {
    // A middleware above took it at once: no turn to wait for.
    if (sent === RESOLVED) this.flush();
    else sent.then(() => this.flush(), (error: unknown) => this.sendFailed(error));
  }

  private flush(): void {
    if (this.mode !== FLUSHING) return;
    this.mode = PASSING;
    const held = this.held;
    if (held === NOTHING) return;
    const release = this.heldRelease!;
    const reject = this.heldReject!;
    this.held = NOTHING;
    this.heldRelease = this.heldReject = undefined;
    this.pass(held).then(release, reject);
  }

  /** The client did not take a message: the middleware fails with why, and the downstream is let go. */
  private sendFailed(error: unknown): void {
    this.relayFailure(error);
    this.responseDone();
  }

  /**
   * A message on the fast path. Below another middleware's fast path, the downstream gets that
   * one's promise as it is, so stacked middlewares add no turn per message. Facing the server,
   * a send the client refuses resolves quietly instead, and from then on the downstream is told
   * the client is gone: the same as when the response goes through the channel.
   */
  private pass(message: HTTPSendEvent): Promise<void> {
    const sent = this.outer(message);
    if (isLastMessage(message, this.trailers)) {
      this.completed = true;
      this.mode = CLOSED;
      if (this.response!.background !== undefined) return this.thenBackground(sent);
      // The response is handed over whole: whatever the downstream waits for now, it is told the
      // client is gone, as a server tells an app once its response is complete.
      this.responseDone();
    }
    return this.outerPasses ? sent : sent.then(undefined, (this.refusedFn ??= (error: unknown) => this.sendFailed(error)));
  }

  /**
   * The last message is out: run the tasks dispatch attached (after it returned the response, or
   * they would have sent it the channel's way), and only then release the downstream.
   */
  private async thenBackground(sent: Promise<void>): Promise<void> {
    try {
      await sent;
      await this.response!.runBackgroundTasks();
    } catch (error) {
      this.relayFailure(error);
    }
    this.responseDone();
  }

  private relayFailure(error: unknown): void {
    if (this.relayFailed) return;
    this.relayFailed = true;
    this.relayError = error;
  }

  private readonly receive: Receive = () => {
    if (!this.responseSent) {
      const now = this.request.replayNow();
      if (now === undefined) return this.receiveFromClient();
      if (now.type === 'http.disconnect') this.sawDisconnect = true;
      return Promise.resolve(now);
    }
    // The response is out: the downstream's work can only be discarded, and it is told so.
    this.sawDisconnect = true;
    return Promise.resolve(DISCONNECT);
  };

  private async receiveFromClient(): Promise<ASGIReceiveEvent> {
    const message = await Promise.race([this.request.replayLater(), this.whenResponseSent()]);
    if (!this.responseSent) {
      if (message.type === 'http.disconnect') this.sawDisconnect = true;
      return message;
    }
    this.sawDisconnect = true;
    return DISCONNECT;
  }

  private whenResponseSent(): Promise<HTTPDisconnectEvent> {
    return (this.sentSignal ??= new Promise((resolve) => {
      this.announceSent = resolve;
    }));
  }

  /** The response is sent (or never will be): release the downstream from every wait. */
  responseDone(): void {
    if (this.responseSent) return;
    this.responseSent = true;
    this.mode = CLOSED;
    this.announceSent?.(DISCONNECT);
    this.channel?.close();
    const release = this.heldRelease;
    if (release !== undefined) {
      this.held = NOTHING;
      this.heldRelease = this.heldReject = undefined;
      release();
    }
    if (!this.settled && this.called !== undefined) {
      // A dispatch that did not await callNext: nobody can observe this rejection any more, and
      // an unhandled one would end the process.
      this.called.catch(ignore);
      this.failResponse();
    }
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

  /** The fast path's outcome once the downstream has returned: throws what the middleware must. */
  passed(): void {
    this.responseDone();
    if (this.relayFailed) throw this.relayError;
    if (!this.completed) this.incomplete();
    if (this.failed && !this.errorSeen) throw this.error;
  }
}
