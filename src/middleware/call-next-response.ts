/**
 * What `callNext` resolves to: the downstream's response, started but not yet sent. Returned
 * as it is (headers or status changed or not), its messages go to the client straight from the
 * downstream; iterating its body instead switches the downstream onto a channel (`upgrade`), and
 * the body is pulled from there.
 */
import type { HTTPResponseDebugEvent, HTTPResponseStartEvent } from '../../generated/index.js';
import { StreamingResponse, type StreamingBody } from '../http/response.js';
import type { Send } from '../protocol.js';
import type { Downstream } from './downstream.js';
import { isLastMessage } from './last-message.js';
import { END, NOTHING, type Rendezvous } from './rendezvous.js';
import type { HTTPSendEvent } from '../../generated/index.js';

const NO_BODY: StreamingBody = [];

async function* bodyOf(
  channel: Rendezvous<HTTPSendEvent>,
  downstream: Downstream,
  trailers: boolean,
): AsyncGenerator<Uint8Array, void, undefined> {
  for (;;) {
    const message = await channel.next();
    if (message === END) return downstream.incomplete();
    if (message.type === 'http.response.body' && message.body !== undefined && message.body.length > 0) yield message.body;
    if (isLastMessage(message, trailers) || (message.type === 'http.response.body' && message.more_body !== true)) return;
  }
}

export class CallNextResponse extends StreamingResponse {
  // Sent by the middleware itself, never served on its own: no callable instance.
  protected static override callable = false;
  /** The run this response comes from. */
  declare readonly downstream: Downstream;
  declare readonly start: HTTPResponseStartEvent;
  declare readonly debug: HTTPResponseDebugEvent | undefined;
  constructor(start: HTTPResponseStartEvent, downstream: Downstream, debug: HTTPResponseDebugEvent | undefined) {
    super(NO_BODY, { status: start.status, headers: start.headers ?? [] });
    // The response is its own body iterable: looking at it costs nothing; iterating it moves the
    // downstream onto the channel. A body dispatch assigns instead is kept but not sent (as in
    // Starlette, the downstream's own body is what goes out).
    this.bodyIterator = this;
    this.downstream = downstream;
    this.start = start;
    this.debug = debug;
  }

  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    return bodyOf(this.downstream.upgrade(), this.downstream, this.start.trailers === true);
  }

  /** The start to send: the downstream's own object, unless dispatch changed the status or the headers. */
  startToSend(): HTTPResponseStartEvent {
    const start = this.start;
    return this.status === start.status && this.headers.raw === start.headers
      ? start
      : { type: 'http.response.start', status: this.status, headers: this.headers.raw, trailers: start.trailers === true };
  }

  /** Runs the background tasks dispatch attached, once the fast path has sent the response. */
  runBackgroundTasks(): Promise<void> {
    return this.runBackground();
  }

  /** Relays the downstream's messages, as they are, one at a time, from the channel. */
  override async respond(_scope: unknown, _receive: unknown, send: Send): Promise<void> {
    const downstream = this.downstream;
    const channel = downstream.upgrade();
    const trailers = this.start.trailers === true;
    if (this.debug !== undefined) await send(this.debug);
    await send(this.startToSend());
    for (;;) {
      const waiting = channel.take();
      const message = waiting !== NOTHING ? waiting : await channel.next();
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
