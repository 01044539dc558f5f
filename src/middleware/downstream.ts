/**
 * One middleware call and the run of its downstream app, from dispatch to the end of the app.
 *
 * The downstream's messages take one of two roads. The fast one serves what most dispatches do,
 * return the response from callNext with its headers or status changed or not: the downstream's
 * start waits (as a value) until dispatch has returned, then goes out rewritten, and every later
 * message goes straight on through the middleware's own `send` (under another middleware, with
 * no promise of its own). The channel is built only when dispatch iterates the body or attaches
 * background tasks: from then on the downstream's messages go into a Rendezvous that the
 * response pulls from.
 *
 * Whichever road, the downstream is never abandoned: once the response is sent (or never will
 * be), its `receive()` answers `http.disconnect` and its `send()` returns at once, so it runs to
 * its end, and the middleware call settles only after it has.
 *
 * The per-request path is hot, so it is written with as few promises as its contract allows: the
 * call's own promise is settled by hand rather than through an async function, a message waiting
 * for dispatch is released by the very reaction that sees it delivered, and middlewares stacked
 * directly on one another hand messages and endings to each other without a promise between them.
 */
import type {
  ASGIReceiveEvent,
  HTTPDisconnectEvent,
  HTTPResponseDebugEvent,
  HTTPScope,
  HTTPSendEvent,
} from '../../generated/index.js';
import { DISCONNECT, TAKEN } from '../http/protocol-constants.js';
import type { Request } from '../http/request.js';
import { Response } from '../http/response.js';
import type { ASGIApp, Receive, Send } from '../protocol.js';
import type { Dispatch } from './base.js';
import { CachedRequest } from './cached-request.js';
import { CallNextResponse } from './call-next-response.js';
import { isLastMessage } from './last-message.js';
import { NOTHING, Rendezvous } from './rendezvous.js';

/**
 * What a send that took its message at once returns, this one's or a server's: whoever gets it
 * back knows there is nothing to wait for, and goes on in the same turn.
 */
const RESOLVED: Promise<void> = TAKEN;
const ignore = (): void => {};
/** What `settle` and `appEnded` get when there was no error (an error may be any value, undefined too). */
const NO_ERROR: unique symbol = Symbol('no error');

/**
 * The call whose app is being started right now (synchronously, inside `startApp`). A middleware
 * called at that moment with that call's `send` sits directly under it: it hands its messages up
 * without a promise, and (when its own promise is the app's) reports its end directly.
 */
let starting: Downstream | undefined = undefined;

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

export interface Layer {
  readonly app: ASGIApp;
  readonly dispatch: Dispatch;
}
/**
 * The app functions `baseHTTPMiddleware` made, with what they run, so that a call above can start
 * them itself. Keyed by the function object, not marked on it: a Proxy around one, a function that
 * inherits from one or copies its properties is another app, whose own code must run.
 */
export const LAYERS = new WeakMap<ASGIApp, Layer>();

/**
 * The calls whose apps start on the next turn, in the order they asked: one shared reaction per
 * call instead of a closure each. Reactions run in the order they were queued, so each takes the
 * first call waiting; each runs in the async context of the callNext that queued it.
 */
const toStart: Downstream[] = [];
function startNext(): void {
  toStart.shift()!.startApp();
}

/** `Downstream.outcome` before the call has ended. */
const PENDING: unique symbol = Symbol('pending');

/** The state of a call that only some calls need. */
class Rare {
  /** The channel, once dispatch has iterated the body. */
  channel: Rendezvous<HTTPSendEvent> | undefined = undefined;
  debug: HTTPResponseDebugEvent | undefined = undefined;
  /** On the fast path, a send to the client or a background task of dispatch's failed with this. */
  relayError: unknown = NO_ERROR;
  announceSent: ((message: HTTPDisconnectEvent) => void) | undefined = undefined;
  sentSignal: Promise<HTTPDisconnectEvent> | undefined = undefined;
  /** Who waits for the app's end off the fast path (`whenDone`). */
  doneSignal: Promise<void> | undefined = undefined;
  signalDone: (() => void) | undefined = undefined;
}

type Release = () => void;
type Refuse = (error: unknown) => void;

export class Downstream {
  private mode: Mode = STARTING;
  /** The channel, once dispatch has iterated the body. */
  /** The app has returned or thrown, and that is recorded here. */
  private ended = false;
  /** What the app threw, or NO_ERROR. */
  private error: unknown = NO_ERROR;
  /** The downstream's error has reached someone (callNext's caller, or the client's response). */
  private errorSeen = false;
  /** The downstream has been handed http.disconnect. */
  private sawDisconnect = false;
  /** On the fast path, the last message of the response has gone to the client. */
  private completed = false;
  private responseSent = false;
  /** What only some calls need, made on first need: the common call stays a smaller object. */
  private rare: Rare | undefined = undefined;

  private response: CallNextResponse | undefined = undefined;
  private trailers = false;
  /** callNext's promise, and how to settle it. */
  private called: Promise<Response> | undefined = undefined;
  private settled = false;
  private resolveResponse: ((response: Response) => void) | undefined = undefined;
  private rejectResponse: ((error: unknown) => void) | undefined = undefined;
  /** The message the downstream sent while dispatch held the response, and how to release its sender. */
  private held: HTTPSendEvent | typeof NOTHING = NOTHING;
  private heldRelease: Release | undefined = undefined;
  private heldRefuse: Refuse | undefined = undefined;

  /** The middleware call's own promise once someone has asked for it (see `result`), and how to settle it. */
  private resultPromise: Promise<void> | undefined = undefined;
  private resolveResult: (() => void) | undefined = undefined;
  private rejectResult: ((error: unknown) => void) | undefined = undefined;
  /** How the call ended (an error, or NO_ERROR), or PENDING. */
  private outcome: unknown = PENDING;
  /** dispatch's response went out on the fast path: the call ends when the app does. */
  private fast = false;

  /** The call whose send is `outer`: it takes this one's messages without a promise between. */
  private readonly above: Downstream | undefined;
  /** The call this one's app made with this one's send as it started; if the app returned its promise, it reports its end here directly. */
  private below: Downstream | undefined = undefined;
  /** This call's end is reported to `above` directly, besides settling `result`. */
  private reportsAbove = false;
  /** `sendFailed` as a rejection handler, once made. */
  private refusedFn: Refuse | undefined = undefined;

  readonly request: CachedRequest;

  constructor(
    private readonly app: ASGIApp,
    private readonly scope: HTTPScope,
    receive: Receive,
    /** The middleware's own send, to its client. */
    private readonly outer: Send,
    /** The call this one's app is, when that call starts it itself (`startApp`); else found from `starting`. */
    above?: Downstream,
  ) {
    this.request = new CachedRequest(scope, receive);
    if (above === undefined && starting !== undefined && outer === starting.send) above = starting;
    this.above = above;
    if (above !== undefined) above.below = this;
  }

  /** The app has been started (callNext was called). */
  private get started(): boolean {
    return this.called !== undefined;
  }

  private get failed(): boolean {
    return this.error !== NO_ERROR;
  }

  /** The call has ended (`result` settled, or its end reported above). */
  private get over(): boolean {
    return this.outcome !== PENDING;
  }

  private more(): Rare {
    return (this.rare ??= new Rare());
  }

  /** The channel, once dispatch has iterated the body. */
  private get channel(): Rendezvous<HTTPSendEvent> | undefined {
    return this.rare?.channel;
  }

  private get debug(): HTTPResponseDebugEvent | undefined {
    return this.rare?.debug;
  }


  /**
   * The middleware call's promise. Made when first asked for: a call that the call above starts
   * itself (`startApp`) reports its end there directly, and nobody else can ask for it.
   */
  get result(): Promise<void> {
    let result = this.resultPromise;
    if (result === undefined) {
      if (!this.over) {
        result = new Promise<void>((resolve, reject) => {
          this.resolveResult = resolve;
          this.rejectResult = reject;
        });
      } else {
        result = this.outcome === NO_ERROR ? RESOLVED : Promise.reject(this.outcome);
      }
      this.resultPromise = result;
    }
    return result;
  }

  /** Runs `dispatch` for this call; the promise returned settles as the middleware call does. */
  run(dispatch: Dispatch): Promise<void> {
    const result = this.result;
    this.dispatch(dispatch);
    return result;
  }

  /** Calls `dispatch`, and follows what it returns. */
  private dispatch(dispatch: Dispatch): void {
    let returned: Promise<Response>;
    try {
      returned = dispatch(this.request, this.callNext);
    } catch (error) {
      this.dispatchFailed(error);
      return;
    }
    Promise.resolve(returned).then(this.dispatched, this.dispatchFailed);
  }

  /** dispatch returned `response`: send it, the fast way if it is callNext's as it was. */
  private readonly dispatched = (response: Response): void => {
    if (!(response instanceof Response)) {
      this.dispatchFailed(new TypeError(`dispatch must return a Response (got ${response === null ? 'null' : typeof response}); did it forget to return callNext's result?`));
      return;
    }
    let fast: boolean;
    try {
      fast = this.takes(response);
    } catch (error) {
      // The send above threw rather than rejecting: the call fails with it, once the app is let go.
      this.dispatchFailed(error);
      return;
    }
    if (fast) {
      // callNext's response, returned as it was: its messages are on their way by themselves, and
      // the call ends when the app does (at once if it has already).
      this.fast = true;
      if (this.ended) this.whenDone().then(() => this.finish(), ignore);
      return;
    }
    this.sendOther(response).then(() => this.settle(NO_ERROR), (error: unknown) => this.settle(error));
  };

  /** dispatch failed: release the downstream and wait for it, so no work is left dangling. */
  private readonly dispatchFailed = (error: unknown): void => {
    this.responseDone();
    if (!this.started || this.ended) this.settle(error);
    else this.whenDone().then(() => this.settle(error), ignore);
  };

  /** dispatch returned a response of its own (or iterated the body): it is sent from here. */
  private async sendOther(response: Response): Promise<void> {
    try {
      await response.respond(this.scope, this.request.replay, this.outer);
    } finally {
      // Whatever happened (sent, or the client went away), release the downstream and wait for it.
      this.responseDone();
      await this.whenDone();
    }
    if (this.failed && !this.errorSeen) throw this.error;
  }

  /** Settles once the app has ended (at once if it never started). */
  private whenDone(): Promise<void> {
    if (!this.started || this.ended) return RESOLVED;
    const rare = this.more();
    return (rare.doneSignal ??= new Promise<void>((resolve) => {
      rare.signalDone = resolve;
    }));
  }

  /** The fast path's outcome once the app has ended. */
  private finish(): void {
    try {
      this.passed();
    } catch (error) {
      this.settle(error);
      return;
    }
    this.settle(NO_ERROR);
  }

  /** Ends the middleware call: with `error`, or NO_ERROR. A call directly below another tells it too. */
  private settle(error: unknown): void {
    if (this.over) return;
    this.outcome = error;
    const result = this.resultPromise;
    if (result !== undefined) {
      if (error === NO_ERROR) {
        this.resolveResult!();
      } else {
        // The call above takes the error directly, so this promise's rejection is handled there.
        if (this.reportsAbove) result.catch(ignore);
        this.rejectResult!(error);
      }
    }
    if (this.reportsAbove) this.above!.appEnded(error);
  }

  /** Starts the app; resolves to its response once it has sent `http.response.start`. */
  readonly callNext = (_request: Request): Promise<Response> => {
    if (this.called !== undefined) return Promise.reject(new Error('callNext was already called for this request'));
    const called = new Promise<Response>((resolve, reject) => {
      this.resolveResponse = resolve;
      this.rejectResponse = reject;
    });
    this.called = called;
    // One microtask later, so that the app runs in an async context of its own: what dispatch
    // set in AsyncLocalStorage flows in, and what the app sets with enterWith stays there.
    toStart.push(this);
    void RESOLVED.then(startNext);
    return called;
  };

  /** Runs the app (see `startNext`). */
  startApp(): void {
    const layer = LAYERS.get(this.app);
    if (layer !== undefined) {
      this.startLayer(layer);
      return;
    }
    const before = starting;
    starting = this;
    let returned: unknown;
    try {
      returned = this.app(this.scope, this.receive, this.send);
    } catch (error) {
      starting = before;
      this.appEnded(error);
      return;
    }
    starting = before;
    const below = this.below;
    if (below !== undefined && returned !== undefined && returned === below.resultPromise && !below.over) {
      // The app is another middleware call, directly: it reports its end to this one itself, as
      // it settles its own promise (which someone else may hold too), without a turn between.
      below.reportsAbove = true;
      return;
    }
    this.below = undefined;
    this.watch(Promise.resolve(returned));
  };

  /**
   * The app is a baseHTTPMiddleware: its call is made here, directly under this one, and reports
   * its end here. Its promise is never handed out, so it is never made (see `result`).
   */
  private startLayer(layer: Layer): void {
    const before = starting;
    starting = this;
    const below = new Downstream(layer.app, this.scope, this.receive, this.send, this);
    below.dispatch(layer.dispatch);
    starting = before;
    if (!below.over) below.reportsAbove = true;
    else this.watch(below.result);
  }

  /** Learns of the app's end from its promise (closures made here, as a call directly above needs none). */
  private watch(running: Promise<unknown>): void {
    running.then(() => this.appEnded(NO_ERROR), (error: unknown) => this.appEnded(error));
  }

  /** The app has ended: with `error`, or NO_ERROR. */
  private appEnded(error: unknown): void {
    this.error = error;
    this.ended = true;
    if (this.mode === STARTING) this.failResponse();
    else if (this.mode === CHANNEL) this.channel!.end();
    const rare = this.rare;
    const signal = rare?.signalDone;
    if (signal !== undefined) {
      rare!.signalDone = undefined;
      signal();
    }
    if (this.fast) this.finish();
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

  /**
   * `send` for the call directly below: `message` goes where `send(message)` would send it, and
   * `release` (or `refuse`) is called where that send's promise would settle. No promise of its own.
   */
  private handUp(message: HTTPSendEvent, release: Release, refuse: Refuse): void {
    switch (this.mode) {
      case PASSING:
        this.passWith(message, release, refuse);
        return;
      case STARTING:
        if (message.type === 'http.response.start' || (message.type === 'http.response.debug' && this.debug === undefined)) {
          void this.first(message);
          release();
          return;
        }
        this.mode = STARTED;
        this.failResponse(new Error(`the downstream app sent '${message.type}' before 'http.response.start'`));
        this.holdWith(message, release, refuse);
        return;
      case CHANNEL:
        this.channel!.put(message, release);
        return;
      case CLOSED:
        release();
        return;
      default:
        this.holdWith(message, release, refuse);
    }
  }

  private holdWith(message: HTTPSendEvent, release: Release, refuse: Refuse): void {
    if (this.held !== NOTHING) {
      refuse(new Error('send() was called again before the previous send() had resolved'));
      return;
    }
    this.held = message;
    this.heldRelease = release;
    this.heldRefuse = refuse;
  }

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
      this.more().debug = message;
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
      this.heldRefuse = reject;
    });
  }

  /** dispatch iterates the body: from now on the downstream's messages go through a channel. */
  upgrade(): Rendezvous<HTTPSendEvent> {
    if (this.mode === CHANNEL) return this.channel!;
    if (this.mode !== STARTED) throw new Error('the response from callNext is already being sent: its body can no longer be read');
    const channel = new Rendezvous<HTTPSendEvent>();
    this.more().channel = channel;
    this.mode = CHANNEL;
    const held = this.held;
    if (held !== NOTHING) {
      const release = this.heldRelease!;
      this.held = NOTHING;
      this.heldRelease = this.heldRefuse = undefined;
      channel.put(held, release);
    }
    if (this.ended) channel.end();
    return channel;
  }

  /**
   * dispatch returned `response`. If it is callNext's, untouched in body, it goes out on the
   * fast path and this returns true; otherwise the caller sends it.
   */
  private takes(response: Response): boolean {
    // Background tasks go the channel's way: they run in the middleware's own async context after
    // the last message, where AsyncLocalStorage values the app set cannot reach them.
    if (response !== this.response || this.mode !== STARTED || response.background !== undefined) return false;
    this.mode = FLUSHING;
    const start = this.response.startToSend();
    if (this.debug !== undefined) {
      void this.outer(this.debug).then(() => this.startOut(this.sendOut(start)), this.sendFailedFn);
    } else {
      this.startOut(this.outer(start));
    }
    return true;
  }

  /** The start is on its way: once the client has it, the waiting message follows, and the rest pass straight. */
  /** The middleware's own send, from a reaction: a send that throws instead of rejecting is a refusal too, not an unhandled error. */
  private sendOut(message: HTTPSendEvent): Promise<void> {
    try {
      return this.outer(message);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private startOut(sent: Promise<void>): void {
    // A middleware above took it at once: no turn to wait for.
    if (sent === RESOLVED) this.flush();
    else this.flushWhen(sent);
  }

  private flushWhen(sent: Promise<void>): void {
    sent.then(() => this.flush(), this.sendFailedFn);
  }

  /** `sendFailed` as a rejection handler, made once. */
  private get sendFailedFn(): Refuse {
    return (this.refusedFn ??= this.refusedHandler());
  }

  private refusedHandler(): Refuse {
    return (error: unknown) => this.sendFailed(error);
  }

  private flush(): void {
    if (this.mode !== FLUSHING) return;
    this.mode = PASSING;
    const held = this.held;
    if (held === NOTHING) return;
    const release = this.heldRelease!;
    const refuse = this.heldRefuse!;
    this.held = NOTHING;
    this.heldRelease = this.heldRefuse = undefined;
    this.passWith(held, release, refuse);
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
      const background = this.lastOut();
      if (background) return this.thenBackground(sent);
    }
    // A send taken at once cannot be refused later: nothing to watch.
    return this.above !== undefined || sent === RESOLVED ? sent : sent.then(undefined, this.sendFailedFn);
  }

  /** `pass` for a sender that waits with `release` and `refuse` rather than with a promise. */
  private passWith(message: HTTPSendEvent, release: Release, refuse: Refuse): void {
    const last = isLastMessage(message, this.trailers);
    if (last && this.response!.background !== undefined) {
      // Rare (tasks attached after dispatch returned): the promise road runs them first.
      let passed: Promise<void>;
      try {
        passed = this.pass(message);
      } catch (error) {
        // Runs in a reaction, where a throw would go unhandled: it is a refusal like any other.
        this.refusedWith(release)(error);
        return;
      }
      passed.then(release, refuse);
      return;
    }
    const above = this.above;
    if (above !== undefined) {
      above.handUp(message, release, refuse);
    } else {
      let sent: Promise<void>;
      try {
        sent = this.outer(message);
      } catch (error) {
        // Runs in a reaction, where a throw would go unhandled: it is a refusal like any other.
        this.refusedWith(release)(error);
        return;
      }
      if (sent === RESOLVED) release();
      else sent.then(release, this.refusedWith(release));
    }
    if (last) this.lastOut();
  }

  /** Facing the server, a refused send resolves quietly (see `pass`): the sender is released all the same. */
  private refusedWith(release: Release): Refuse {
    return (error: unknown) => {
      this.sendFailed(error);
      release();
    };
  }

  /** The last message is going out: returns whether background tasks must run before the downstream is let go. */
  private lastOut(): boolean {
    this.completed = true;
    this.mode = CLOSED;
    if (this.response!.background !== undefined) return true;
    // The response is handed over whole: whatever the downstream waits for now, it is told the
    // client is gone, as a server tells an app once its response is complete.
    this.responseDone();
    return false;
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
    const rare = this.more();
    if (rare.relayError !== NO_ERROR) return;
    rare.relayError = error;
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
    const rare = this.more();
    return (rare.sentSignal ??= new Promise((resolve) => {
      rare.announceSent = resolve;
    }));
  }

  /** The response is sent (or never will be): release the downstream from every wait. */
  responseDone(): void {
    if (this.responseSent) return;
    this.responseSent = true;
    this.mode = CLOSED;
    const rare = this.rare;
    if (rare !== undefined) {
      rare.announceSent?.(DISCONNECT);
      rare.channel?.close();
    }
    const release = this.heldRelease;
    if (release !== undefined) {
      this.held = NOTHING;
      this.heldRelease = this.heldRefuse = undefined;
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
  private passed(): void {
    this.responseDone();
    // On the fast path, a send to the client or a background task of dispatch's failed.
    const relayError = this.rare?.relayError ?? NO_ERROR;
    if (relayError !== NO_ERROR) throw relayError;
    if (!this.completed) this.incomplete();
    if (this.failed && !this.errorSeen) throw this.error;
  }
}

