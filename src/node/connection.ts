/**
 * What the server keeps per connection: the cycles whose responses are not complete yet, and the
 * cycle of the last request parsed on it (the one a client error arriving now belongs after).
 */
import type { Socket } from 'node:net';

/** What a connection needs to know of a cycle. */
export interface LiveCycle {
  connectionClosed(): void;
}

/**
 * The cycles of one connection whose responses are not complete. There is one at a time unless
 * the client pipelines, so that one has a slot of its own and only the rest go in a Set (a Set
 * of fresh objects costs a hash per object, per request).
 */
export class LiveCycles<C extends LiveCycle> {
  private first: C | undefined;
  private rest: Set<C> | undefined;

  add(cycle: C): void {
    if (this.first === undefined) this.first = cycle;
    else (this.rest ??= new Set()).add(cycle);
  }

  delete(cycle: C): void {
    if (this.first === cycle) this.first = undefined;
    else this.rest?.delete(cycle);
  }

  /** Empties the list, handing each cycle to `each`. */
  drain(each: (cycle: C) => void): void {
    const { first, rest } = this;
    this.first = undefined;
    this.rest = undefined;
    if (first !== undefined) each(first);
    if (rest !== undefined) for (const cycle of rest) each(cycle);
  }
}

export class Connection<C extends LiveCycle = LiveCycle> {
  readonly live = new LiveCycles<C>();
  /** The cycle of the most recent request on this connection. */
  last: C | undefined;

  /**
   * The socket's addresses, read once per connection rather than through node's getters (a
   * call chain each) on every request's scope. Undefined on a unix socket.
   */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;

  constructor(socket: Socket) {
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.localAddress = socket.localAddress;
    this.localPort = socket.localPort;
    socket.once('close', () => {
      this.live.drain((cycle) => cycle.connectionClosed());
      this.last = undefined;
    });
  }
}

const CONNECTION = Symbol('tsgi connection');
type Tagged = Socket & { [CONNECTION]?: Connection };

/** Call once per connection: when it closes, the cycles running on it hear of it. */
export function watchConnection(socket: Socket): void {
  (socket as Tagged)[CONNECTION] = new Connection(socket);
}

export function connectionOf(socket: Socket): Connection | undefined {
  return (socket as Tagged)[CONNECTION];
}
