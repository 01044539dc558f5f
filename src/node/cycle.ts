/**
 * One request-response cycle on `node:http`: the `receive` and `send` an app gets for one
 * request, and the state a server keeps about it. The state is a few flags, as in uvicorn's
 * RequestResponseCycle. The server owns HTTP/1.1 framing here, validation or not: the head is
 * checked before anything is written (src/node/framing.ts), a declared `content-length` is held
 * to in bytes, and a connection that cannot honestly carry another response is closed.
 */
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { ASGISendEvent, Header, HTTPReceiveEvent } from '../../generated/index.js';
import { DISCONNECT, TAKEN, statusHasBody } from '../http/protocol-constants.js';
import { ClientDisconnect } from '../http/request.js';
import { connectionOf, type Connection } from './connection.js';
import { decodeLatin1, responseHead, type HeadFraming } from './framing.js';
import { latin1String } from './latin1.js';
import { bodyHead, type BodyHead } from './raw-headers.js';
import { plainResponse } from './refuse.js';
import type { RunningEntry } from './running.js';

export { watchConnection } from './connection.js';

const EMPTY = Buffer.alloc(0);
const NO_MORE_BODY: HTTPReceiveEvent = Object.freeze({ type: 'http.request', body: EMPTY, more_body: false }) as HTTPReceiveEvent;
// Settled promises are immutable, so one of each serves every request.
const NO_MORE_BODY_NOW: Promise<HTTPReceiveEvent> = Promise.resolve(NO_MORE_BODY);
const DISCONNECTED_NOW: Promise<HTTPReceiveEvent> = Promise.resolve(DISCONNECT);
// A send taken at once answers with TAKEN, which a baseHTTPMiddleware above recognises: it goes on
// in the same turn instead of waiting on the promise and watching it for a refusal.
const resolved: Promise<void> = TAKEN;
const framing: HeadFraming = { length: -1, close: false };
/**
 * A response sent whole with a body up to this size goes out in one plain write; see `endWhole`.
 * It still paid at 2 and 4 KiB (bench/http with a larger body); a larger body is left to the
 * writev, which sends it without copying it into a string first.
 */
const ONE_WRITE_BODY = 4096;
// Scratch for the constructor (sync, so never shared).
const head: BodyHead = { contentLength: undefined, transferEncoding: false, expect: undefined };

/**
 * A request body the app left unread is read and discarded, so the connection can carry the next
 * request, when at most this much of it is left; past it the connection is closed after the
 * response instead. The bound is Go net/http's (256 KiB): enough for any form post, small enough
 * that a client cannot make the server swallow an upload nobody wants.
 */
export const DRAIN_LIMIT = 256 * 1024;

export interface CycleOptions {
  /** Largest request body in bytes; past it, 413 (or a cut connection once the response started). */
  maxBodySize?: number | undefined;
  /** Where framing errors of the app are reported, once per response. */
  logger?: { error(message: string, error?: unknown): void } | undefined;
  /**
   * ms a held-up write may wait on the client: armed on the socket only once a write is held up
   * (its 'timeout' is the server's to act on). 0 or absent: none.
   */
  writeTimeout?: number | undefined;
}

/** node:http's flag for "close the connection once this response is finished"; not in its types. */
type Closable = ServerResponse & { _last: boolean };

export class RequestResponseCycle implements RunningEntry {
  responseStarted = false;
  responseComplete = false;
  disconnected = false;

  private status = 200;
  private headers: readonly Header[] = [];
  private headersWritten = false;
  /** The response carries no body (HEAD, 204, 304); set with the head. */
  private bodyless = false;
  private trailersAnnounced = false;
  private bodyComplete = false;
  private trailers: string[] = [];

  // The request body.
  /** The request carries no body at all. */
  private readonly noBody: boolean;
  /** The final `http.request` (more_body false) has been handed out. */
  private bodyDelivered = false;
  private reading = false;
  private bytesRead = 0;
  /** The unread rest of the body has been dealt with (drained, or the connection set to close). */
  private bodySettled = false;
  private expectContinue: boolean;
  /** The request's `content-length`, or NaN. */
  private readonly declaredLength: number;
  /**
   * The one pending receive(): a body read waiting for data, or a wait for the end of the cycle.
   * One resolver, settled by whichever comes first (data, end of body, the connection closing,
   * the response completing), so a read leaves nothing behind once it is answered.
   */
  private waiting: Promise<HTTPReceiveEvent> | undefined;
  private wake: ((message: HTTPReceiveEvent) => void) | undefined;

  // The response body.
  /** The declared `content-length` the body is held to, or -1. */
  private limit = -1;
  private written = 0;

  // Links in serve's list of app calls in flight (src/node/running.ts).
  prevRunning: RunningEntry | undefined = undefined;
  nextRunning: RunningEntry | undefined = undefined;

  private readonly connection: Connection | undefined;
  private readonly maxBodySize: number | undefined;
  private readonly writeTimeout: number;
  private readonly logger: CycleOptions['logger'];

  constructor(
    readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    options?: CycleOptions,
  ) {
    bodyHead(req.rawHeaders, head);
    const length = head.contentLength;
    this.declaredLength = length === undefined ? NaN : Number(length);
    this.noBody = !head.transferEncoding && (length === undefined || length === '0');
    // A 1.0 client knows no 100 (RFC 9110 §15.2): it would take it for the final response.
    this.expectContinue = !this.noBody && req.httpVersionMinor !== 0 && head.expect !== undefined && head.expect.toLowerCase() === '100-continue';
    this.maxBodySize = options?.maxBodySize;
    this.writeTimeout = options?.writeTimeout ?? 0;
    this.logger = options?.logger;
    // A watched connection tells its live cycles when it closes: one listener per connection
    // rather than one per request. Elsewhere, the response's own close event does it.
    const connection = connectionOf(req.socket);
    if (connection !== undefined) {
      connection.live.add(this);
      connection.last = this;
      this.connection = connection;
    } else {
      res.on('close', () => this.connectionClosed());
    }
  }

  /** The connection closed. Before the response was complete, that is the client leaving. */
  connectionClosed(): void {
    if (!this.responseComplete || !this.res.writableFinished) this.disconnected = true;
    this.end();
  }

  private end(): void {
    this.connection?.live.delete(this);
    this.settle(DISCONNECT);
  }

  private settle(message: HTTPReceiveEvent): void {
    const wake = this.wake;
    if (wake === undefined) return;
    this.wake = undefined;
    this.waiting = undefined;
    wake(message);
  }

  private wait(): Promise<HTTPReceiveEvent> {
    return (this.waiting = new Promise((resolve) => {
      this.wake = resolve;
    }));
  }

  readonly receive = (): Promise<HTTPReceiveEvent> => {
    // After the response, or once the client has gone, there is only http.disconnect.
    if (this.disconnected || this.responseComplete) return DISCONNECTED_NOW;
    // An app that asks again before the last answer (racing receive() against something else)
    // shares that answer.
    if (this.waiting !== undefined) return this.waiting;
    if (this.bodyDelivered) return this.wait();
    if (this.noBody) {
      this.bodyDelivered = true;
      return NO_MORE_BODY_NOW;
    }
    if (this.expectContinue) {
      // The client waits for a go-ahead before it sends the body: give it when the app asks.
      this.expectContinue = false;
      this.res.writeContinue();
    }
    if (!this.reading) this.startReading();
    const message = this.next();
    return message !== undefined ? Promise.resolve(message) : this.wait();
  };

  private startReading(): void {
    // Reading on demand with read(): while the app does not ask, node's buffer fills, the socket
    // is paused, and the client feels the backpressure. Nothing is held per read.
    this.reading = true;
    this.req.on('readable', () => {
      if (this.wake === undefined || this.bodyDelivered) return;
      const message = this.next();
      if (message !== undefined) this.settle(message);
    });
    this.req.on('end', () => {
      if (this.wake === undefined || this.bodyDelivered) return;
      this.bodyDelivered = true;
      this.settle(NO_MORE_BODY);
    });
  }

  /** The next body message, or undefined when there is nothing to hand out yet. */
  private next(): HTTPReceiveEvent | undefined {
    const chunk = this.req.read() as Buffer | null;
    if (chunk === null) {
      if (!this.req.readableEnded) return undefined;
      this.bodyDelivered = true;
      return NO_MORE_BODY;
    }
    this.bytesRead += chunk.length;
    if (this.maxBodySize !== undefined && this.bytesRead > this.maxBodySize) {
      this.requestFailed(413);
      return DISCONNECT;
    }
    // The whole body has arrived and this was the last of it: say so now, saving a round trip.
    if (this.req.complete && this.req.readableLength === 0) {
      this.bodyDelivered = true;
      this.req.read(); // lets the stream end
      return { type: 'http.request', body: chunk, more_body: false };
    }
    return { type: 'http.request', body: chunk, more_body: true };
  }

  readonly send = (message: ASGISendEvent): Promise<void> => {
    if (this.disconnected) return Promise.reject(new ClientDisconnect('the client disconnected; nothing more can be sent'));
    try {
      return this.handle(message);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };

  private unexpected(message: { type?: unknown }): Error {
    const got = typeof message?.type === 'string' ? message.type : String(message);
    if (!this.responseStarted) return new Error(`Expected ASGI message 'http.response.start', but got '${got}'`);
    if (this.responseComplete) return new Error(`Unexpected ASGI message '${got}' sent, after response already completed`);
    return new Error(`Expected ASGI message 'http.response.body', but got '${got}'`);
  }

  private handle(message: ASGISendEvent): Promise<void> {
    switch (message.type) {
      case 'http.response.start':
        if (this.responseStarted) throw this.unexpected(message);
        this.responseStarted = true;
        this.status = message.status;
        this.headers = message.headers ?? [];
        this.trailersAnnounced = message.trailers === true;
        // Held back until the first body, so a body sent whole gets a content-length.
        return resolved;
      case 'http.response.body': {
        if (!this.responseStarted || this.bodyComplete) throw this.unexpected(message);
        const body = message.body ?? EMPTY;
        if (!(body instanceof Uint8Array)) throw new TypeError(`'http.response.body' body must be a Uint8Array, got ${typeof body}`);
        const more = message.more_body === true;
        if (!more && !this.trailersAnnounced) {
          // Decided before the head, so that a connection about to close says so in it.
          if (!this.bodyDelivered && !this.noBody) this.settleRequestBody();
          const whole = !this.headersWritten;
          this.writeHead(whole ? body.length : -1);
          this.complete(this.bounded(body), whole);
          return resolved;
        }
        this.writeHead(-1);
        if (!more) this.bodyComplete = true;
        const bytes = this.bounded(body);
        return bytes.length > 0 && !this.res.write(bytes) ? this.drained() : resolved;
      }
      case 'http.response.trailers': {
        if (!this.trailersAnnounced || !this.bodyComplete) throw this.unexpected(message);
        for (const [name, value] of message.headers) this.trailers.push(decodeLatin1(name), decodeLatin1(value));
        if (message.more_trailers === true) return resolved;
        // Trailers go only to a client that said it takes them (TE: trailers).
        if (/\btrailers\b/i.test(String(this.req.headers.te ?? '')) && this.trailers.length > 0) {
          const pairs: [string, string][] = [];
          for (let i = 0; i < this.trailers.length; i += 2) pairs.push([this.trailers[i]!, this.trailers[i + 1]!]);
          this.res.addTrailers(pairs);
        }
        this.complete(EMPTY);
        return resolved;
      }
      case 'http.response.early_hint':
        // Too late for a 103, or a 1.0 client, which would take it for the final response (RFC 9110
        // §15.2): the extension lets servers drop hints.
        if (this.bodyComplete || this.headersWritten || this.req.httpVersionMinor === 0) return resolved;
        this.res.writeEarlyHints({ link: message.links.map(decodeLatin1) });
        return resolved;
      case 'http.response.pathsend':
        if (!this.responseStarted || this.bodyComplete || this.headersWritten) throw this.unexpected(message);
        return this.sendFile(message.path);
      default:
        throw this.unexpected(message);
    }
  }

  /**
   * Checks the head and writes it. Node would throw on a bad status or header byte too, but
   * checking first (src/node/framing.ts) keeps nothing half-written, so the app gets a clean 500.
   */
  private writeHead(bodyLength: number): void {
    if (this.headersWritten) return;
    const bodyless = this.req.method === 'HEAD' || !statusHasBody(this.status);
    this.bodyless = bodyless;
    const flat = responseHead(this.status, this.headers, bodyLength, bodyless, this.req.httpVersion === '1.0', framing);
    this.limit = framing.length;
    if (framing.close) this.res.shouldKeepAlive = false;
    this.res.writeHead(this.status, flat);
    this.headersWritten = true;
  }

  /** The part of `body` the declared length still allows; bytes past it are never written. */
  private bounded(body: Uint8Array): Uint8Array {
    if (this.limit < 0) return body;
    const room = this.limit - this.written;
    if (body.length <= room) {
      this.written += body.length;
      return body;
    }
    if (room >= 0) {
      // Once per response: the rest is dropped without a word.
      this.logger?.error(`ASGI application sent more body than its content-length (${this.limit} bytes), "${this.req.method ?? ''} ${this.req.url ?? ''}"; the excess is dropped and the connection closed`);
      this.written = this.limit + 1;
      this.closeAfterResponse();
    }
    return body.subarray(0, Math.max(room, 0));
  }

  /** Whether `req` is this cycle's request. */
  ownsRequest(req: unknown): boolean {
    return req === this.req;
  }

  /** The connection carries no more responses after this one (a client error came after it). */
  closeConnectionAfter(): void {
    this.closeAfterResponse();
  }

  private closeAfterResponse(): void {
    if (!this.headersWritten) this.res.shouldKeepAlive = false;
    else (this.res as Closable)._last = true;
  }

  /** Ends the response with `body`; `whole` when nothing of it was written before (head included). */
  private complete(body: Uint8Array, whole = false): void {
    this.bodyComplete = true;
    this.responseComplete = true;
    // A response shorter than it said would swallow the next one: the client must see a close.
    if (this.limit >= 0 && this.written < this.limit) this.closeAfterResponse();
    if (!this.bodyDelivered && !this.noBody) this.settleRequestBody();
    // Not for HEAD, 204 or 304: node drops their body.
    if (whole && !this.bodyless && body.length > 0 && body.length <= ONE_WRITE_BODY) this.endWhole(body);
    else this.res.end(body);
    // The last bytes are still queued: the client is not reading (yet).
    if (this.res.writableLength > 0) this.armWriteTimeout();
    this.end();
  }

  /**
   * Sends a small response, head and body, in one write. `res.end(body)` hands the socket three
   * pieces (the head, the body, and the empty write end() finishes on), which go out as a writev:
   * about a tenth of the CPU a small response costs (bench/http). Given a latin-1 string (one
   * character per byte, so the bytes are unchanged), node joins the head to it; written while the
   * socket is corked, it is the only piece there, and end() then has nothing left to send. A
   * response queued behind a pipelined one has no socket yet and takes the plain path.
   */
  private endWhole(body: Uint8Array): void {
    const socket = this.res.socket;
    if (socket === null) {
      this.res.end(body);
      return;
    }
    socket.cork();
    try {
      this.res.write(latin1String(body), 'latin1');
    } finally {
      socket.uncork();
    }
    this.res.end();
  }

  /**
   * The response is complete and the app left some of the request body unread. Node pauses the
   * socket while nobody reads, so the next request would wait behind the unread bytes: a small
   * rest is drained, anything else closes the connection.
   */
  private settleRequestBody(): void {
    if (this.bodySettled) return;
    this.bodySettled = true;
    const left = this.req.complete ? this.req.readableLength : this.declaredLength - this.bytesRead;
    if (Number.isFinite(left) && left <= DRAIN_LIMIT) {
      if (this.reading) this.req.removeAllListeners('readable');
      this.req.resume();
    } else {
      this.closeAfterResponse();
    }
  }

  /**
   * A write is held up on the client: from now on the socket times out after `writeTimeout` ms
   * without progress (node refreshes it on every write), and the server cuts it. node resets the
   * socket's timeout when the next request or the keep-alive wait starts.
   */
  private armWriteTimeout(): void {
    if (this.writeTimeout > 0) this.req.socket?.setTimeout(this.writeTimeout);
  }

  private drained(): Promise<void> {
    this.armWriteTimeout();
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  private async sendFile(path: string): Promise<void> {
    // Opened before the head goes out: a file that is not there (or cannot be read) is the app's
    // error, answered with a 500, rather than a 200 head followed by a reset.
    const file = await open(path, 'r');
    let size: number;
    try {
      size = (await file.stat()).size;
    } catch (error) {
      await file.close();
      throw error;
    }
    this.writeHead(-1);
    this.armWriteTimeout(); // the pipeline waits on the client as send() does
    this.bodyComplete = true;
    if (!this.bodyDelivered && !this.noBody) this.settleRequestBody();
    const limit = this.limit;
    try {
      if (limit >= 0) {
        // The declared length bounds the read, so a longer file cannot overrun the response; a
        // shorter one leaves the response short, and the connection is closed after it.
        if (size < limit) this.closeAfterResponse();
        if (limit > 0) await pipeline(file.createReadStream({ end: limit - 1 }), this.res);
        else {
          await file.close();
          this.res.end();
        }
      } else {
        await pipeline(file.createReadStream(), this.res);
      }
    } catch (error) {
      if (this.disconnected) return;
      throw error;
    }
    this.responseComplete = true;
    this.end();
  }

  /** Answers 500 for an app that failed before anything was written. */
  internalError(): void {
    if (this.headersWritten || this.disconnected) return;
    this.responseStarted = true;
    this.headersWritten = true;
    this.res.shouldKeepAlive = false;
    // The reason is given: a head node refused may have left the app's status text behind.
    this.res.writeHead(500, 'Internal Server Error', plainResponse.headers('Internal Server Error'));
    this.complete(plainResponse.body('Internal Server Error'));
  }

  /** The app failed: a 500 when nothing was written yet, else the connection is cut. */
  fail(): void {
    if (!this.headersWritten) this.internalError();
    else if (!this.responseComplete) this.abort();
  }

  /**
   * The request itself went wrong while the app was running (its body too large, malformed, or too
   * slow): it answers `status` if nothing was written yet, else the connection is cut. The app
   * hears that the client is gone.
   */
  requestFailed(status: number): void {
    if (this.disconnected) return;
    const canAnswer = !this.headersWritten;
    this.disconnected = true;
    if (canAnswer) {
      this.responseStarted = true;
      this.headersWritten = true;
      this.bodyComplete = true;
      this.responseComplete = true;
      this.res.shouldKeepAlive = false;
      const reason = plainResponse.reason(status);
      this.res.writeHead(status, reason, plainResponse.headers(reason));
      this.res.end(plainResponse.body(reason));
      this.end();
    } else {
      this.abort();
    }
  }

  /** Cuts the connection: a response that started cannot be finished honestly. */
  abort(): void {
    this.disconnected = true;
    this.res.destroy();
    this.end();
  }
}
