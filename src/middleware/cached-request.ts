/**
 * The request `dispatch` sees. Its `replay` is the downstream app's view of the body: what
 * dispatch already read is handed over again, and the rest is read on from the client.
 */
import type { ASGIReceiveEvent } from '../../generated/index.js';
import { DISCONNECT } from '../http/protocol-constants.js';
import { Request } from '../http/request.js';
import type { Receive } from '../protocol.js';

const EMPTY = new Uint8Array(0);

export class CachedRequest extends Request {
  /** The downstream has been told http.disconnect. */
  private replayDisconnected = false;
  /** The downstream has the whole body; only a disconnect is left to tell it. */
  private replayConsumed = false;

  private replayFn: Receive | undefined;

  /** `replay` as a function of its own, to hand out as a `receive`. */
  get replay(): Receive {
    return (this.replayFn ??= () => {
      const now = this.replayNow();
      return now !== undefined ? Promise.resolve(now) : this.replayLater();
    });
  }

  /**
   * The downstream's next message when it is known without asking the client (the body dispatch
   * read, or a disconnect already seen), else undefined. Answered at once, with no async frame
   * and no race against the response being sent: most of what a body-reading dispatch costs.
   */
  replayNow(): ASGIReceiveEvent | undefined {
    // Told already: say it again, without asking the client.
    if (this.replayDisconnected) return DISCONNECT;
    if (this.replayConsumed) {
      if (!this.disconnected) return undefined;
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
    return undefined;
  }

  /** What only the client can answer: its next body chunk, or (body all delivered) its leaving. */
  async replayLater(): Promise<ASGIReceiveEvent> {
    if (this.replayConsumed) {
      // The body is all delivered: wait for the client to leave.
      const message = await this.nextMessage();
      if (message.type !== 'http.disconnect') throw new Error(`server sent '${message.type}' after the request body was complete`);
      this.disconnected = true;
      this.replayDisconnected = true;
      return DISCONNECT;
    }
    // Nobody has read (all of) the body: pass on the client's next chunk. Like stream(), empty
    // chunks that promise more are skipped, and a disconnect marks the request disconnected.
    for (;;) {
      const message = await this.nextMessage();
      if (message.type === 'http.request') {
        const more = message.more_body === true;
        const body = message.body ?? EMPTY;
        if (!more) {
          this.streamConsumed = true;
          this.replayConsumed = true;
        }
        if (body.length > 0 || !more) return { type: 'http.request', body, more_body: more };
      } else if (message.type === 'http.disconnect') {
        this.disconnected = true;
        this.replayDisconnected = true;
        return DISCONNECT;
      }
    }
  }
}
