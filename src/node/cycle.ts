/**
 * One request-response cycle on `node:http`: the `receive` and `send` an app gets for one
 * request, and the state a server keeps about it. The state is a few flags, as in uvicorn's
 * RequestResponseCycle.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { ASGISendEvent, Header, HTTPDisconnectEvent, HTTPReceiveEvent } from '../../generated/index.js';
import { DISCONNECT, statusHasBody } from '../http/protocol-constants.js';
import { ClientDisconnect } from '../http/request.js';

const EMPTY = Buffer.alloc(0);
const NO_MORE_BODY: HTTPReceiveEvent = Object.freeze({ type: 'http.request', body: EMPTY, more_body: false }) as HTTPReceiveEvent;
const resolved: Promise<void> = Promise.resolve();

/** Header bytes as node:http wants them: latin-1 strings, decoded natively. */
function decodeLatin1(bytes: Uint8Array): string {
  return (bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('latin1');
}

/** A header list as node:http takes it: one flat array of latin-1 strings, duplicates kept. */
function flatHeaders(headers: readonly Header[], contentLength: number): string[] {
  const flat: string[] = [];
  let hasLength = false;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    const n = decodeLatin1(name);
    if (n.length === 14 && n.toLowerCase() === 'content-length') hasLength = true;
    flat.push(n, decodeLatin1(value));
  }
  if (contentLength >= 0 && !hasLength) flat.push('content-length', String(contentLength));
  return flat;
}

const CYCLES = Symbol('tsgi cycles');
type Watched = Socket & { [CYCLES]?: Set<RequestResponseCycle> };

/** Call once per connection: when it closes, the cycles running on it hear of it. */
export function watchConnection(socket: Socket): void {
  const live = new Set<RequestResponseCycle>();
  (socket as Watched)[CYCLES] = live;
  socket.once('close', () => {
    for (const cycle of live) cycle.connectionClosed();
    live.clear();
  });
}

export class RequestResponseCycle {
  responseStarted = false;
  responseComplete = false;
  disconnected = false;

  private status = 200;
  private headers: readonly Header[] = [];
  private headersWritten = false;
  private trailersAnnounced = false;
  private bodyComplete = false;
  private trailers: string[] = [];
  /** The request has no body left to read (none was sent, or all of it has been read). */
  private requestBodyDone: boolean;
  private reader: AsyncIterator<Buffer> | undefined;
  private expectContinue: boolean;
  /** Resolves with http.disconnect once the client is gone or the response is complete. */
  private over: Promise<HTTPDisconnectEvent> | undefined;
  private announceOver: ((message: HTTPDisconnectEvent) => void) | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    const length = req.headers['content-length'];
    this.requestBodyDone = req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
    this.expectContinue = (req.headers.expect ?? '').toLowerCase() === '100-continue';
    // A watched connection tells its live cycles when it closes: one listener per connection
    // rather than one per request. Elsewhere, the response's own close event does it.
    const live = (req.socket as Watched)[CYCLES];
    if (live !== undefined) {
      live.add(this);
      this.live = live;
    } else {
      res.on('close', () => this.connectionClosed());
    }
  }

  private live: Set<RequestResponseCycle> | undefined;

  /** The connection closed. Before the response was complete, that is the client leaving. */
  connectionClosed(): void {
    if (!this.responseComplete || !this.res.writableFinished) this.disconnected = true;
    this.end();
  }

  private end(): void {
    this.live?.delete(this);
    this.announceOver?.(DISCONNECT);
  }

  private whenOver(): Promise<HTTPDisconnectEvent> {
    return (this.over ??= new Promise((resolve) => {
      this.announceOver = resolve;
    }));
  }

  readonly receive = (): Promise<HTTPReceiveEvent> => {
    // After the response, or once the client has gone, there is only http.disconnect.
    if (this.disconnected || this.responseComplete) return Promise.resolve(DISCONNECT);
    if (this.requestBodyDone) return this.whenOver();
    if (this.expectContinue) {
      // The client waits for a go-ahead before it sends the body: give it when the app asks.
      this.expectContinue = false;
      this.res.writeContinue();
    }
    return this.readChunk();
  };

  private async readChunk(): Promise<HTTPReceiveEvent> {
    // The async iterator reads on demand: while the app does not ask, the socket is paused
    // once node's buffer is full, which is the backpressure the client feels.
    this.reader ??= this.req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let step: IteratorResult<Buffer> | HTTPDisconnectEvent;
    try {
      step = await Promise.race([this.reader.next(), this.whenOver()]);
    } catch {
      // The request stream failed: the client aborted mid-body.
      this.disconnected = true;
      return DISCONNECT;
    }
    if ('type' in step) return step;
    if (step.done === true) {
      this.requestBodyDone = true;
      return NO_MORE_BODY;
    }
    return { type: 'http.request', body: step.value, more_body: true };
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
        const more = message.more_body === true;
        if (!more && !this.trailersAnnounced) {
          this.writeHead(this.headersWritten ? -1 : body.length);
          this.complete(body);
          return resolved;
        }
        this.writeHead(-1);
        if (!more) this.bodyComplete = true;
        return body.length > 0 && !this.res.write(body) ? this.drained() : resolved;
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
        if (this.bodyComplete || this.headersWritten) return resolved; // too late for a 103; the extension lets servers drop it
        this.res.writeEarlyHints({ link: message.links.map(decodeLatin1) });
        return resolved;
      case 'http.response.pathsend':
        if (!this.responseStarted || this.bodyComplete || this.headersWritten) throw this.unexpected(message);
        return this.sendFile(message.path);
      default:
        throw this.unexpected(message);
    }
  }

  private writeHead(contentLength: number): void {
    if (this.headersWritten) return;
    this.headersWritten = true;
    const length = contentLength >= 0 && statusHasBody(this.status) && this.req.method !== 'HEAD' ? contentLength : -1;
    this.res.writeHead(this.status, flatHeaders(this.headers, length));
  }

  private complete(body: Buffer | Uint8Array): void {
    this.bodyComplete = true;
    this.responseComplete = true;
    this.res.end(body);
    this.end();
  }

  private drained(): Promise<void> {
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
    this.writeHead(-1);
    this.bodyComplete = true;
    try {
      await pipeline(createReadStream(path), this.res);
    } catch (error) {
      if (this.disconnected) return;
      throw error;
    }
    this.responseComplete = true;
    this.end();
  }

  /** Answers 500 for an app that failed before its response started. */
  internalError(): void {
    if (this.headersWritten || this.disconnected) return;
    this.responseStarted = true;
    this.headersWritten = true;
    this.res.writeHead(500, ['content-type', 'text/plain; charset=utf-8', 'content-length', '21', 'connection', 'close']);
    this.complete(Buffer.from('Internal Server Error'));
  }

  /** Cuts the connection: a response that started cannot be finished honestly. */
  abort(): void {
    this.disconnected = true;
    this.res.destroy();
    this.end();
  }
}
