/**
 * An unbuffered channel between one producer and one consumer. A `send` resolves once the
 * consumer has dealt with the message: when it asks for the next one, acknowledges it, or closes
 * the channel. So at most one message is in flight, and a producer never runs ahead of its reader.
 */

/** What `next()` returns once the producer has ended and every message has been taken. */
export const END: unique symbol = Symbol('end of channel');

/** What `take()` returns when no message is waiting. */
export const NOTHING: unique symbol = Symbol('nothing buffered');
const resolved: Promise<void> = Promise.resolve();

export class Rendezvous<T> {
  /**
   * How many channels were ever made. baseHTTPMiddleware makes one only off its fast path, so
   * a test can tell that the fast path was taken.
   */
  static constructed = 0;

  /** A message sent while nobody was waiting, and its producer. */
  private buffered: T | typeof NOTHING = NOTHING;
  private bufferedRelease: (() => void) | undefined;
  /** The producer of the message the consumer holds now, released when it is dealt with. */
  private heldRelease: (() => void) | undefined;
  /** The consumer, waiting for a message. */
  private taker: ((value: T | typeof END) => void) | undefined;
  private ended = false;
  private closed = false;

  constructor() {
    Rendezvous.constructed += 1;
  }

  /** Hands `value` to the consumer; resolves when it has been dealt with. Dropped once closed. */
  send(value: T): Promise<void> {
    if (this.closed) return resolved;
    return new Promise<void>((release) => this.put(value, release));
  }

  /**
   * `send` for a producer whose promise exists already: `release` is called when the consumer
   * has dealt with `value` (at once if the channel is closed). Takes over a message that was
   * waiting somewhere else.
   */
  put(value: T, release: () => void): void {
    if (this.closed) {
      release();
      return;
    }
    const taker = this.taker;
    if (taker !== undefined) {
      this.taker = undefined;
      this.heldRelease = release;
      taker(value);
    } else {
      this.buffered = value;
      this.bufferedRelease = release;
    }
  }

  /**
   * The next message if one is already waiting, else NOTHING, without a promise: the relay's
   * common case, since the downstream usually sends its next message before the relay asks.
   */
  take(): T | typeof NOTHING {
    const value = this.buffered;
    if (value === NOTHING) return NOTHING;
    this.ack();
    this.buffered = NOTHING;
    this.heldRelease = this.bufferedRelease;
    this.bufferedRelease = undefined;
    return value;
  }

  /** The next message, or END. Asking for it releases the producer of the previous one. */
  next(): Promise<T | typeof END> {
    this.ack();
    const value = this.buffered;
    if (value !== NOTHING) {
      this.buffered = NOTHING;
      this.heldRelease = this.bufferedRelease;
      this.bufferedRelease = undefined;
      return Promise.resolve(value);
    }
    if (this.ended) return Promise.resolve(END);
    return new Promise((resolve) => {
      this.taker = resolve;
    });
  }

  /** The consumer is finished with the message it holds: release its producer now. */
  ack(): void {
    const release = this.heldRelease;
    if (release !== undefined) {
      this.heldRelease = undefined;
      release();
    }
  }

  /** The producer is done: the consumer gets END after what is buffered. */
  end(): void {
    this.ended = true;
    const taker = this.taker;
    if (taker !== undefined) {
      this.taker = undefined;
      taker(END);
    }
  }

  /** The consumer is done: every waiting producer is released, and later sends are dropped. */
  close(): void {
    this.closed = true;
    this.ack();
    const release = this.bufferedRelease;
    this.buffered = NOTHING;
    this.bufferedRelease = undefined;
    release?.();
    this.end();
  }
}
