/**
 * What the server keeps per connection: the cycles whose responses are not complete yet, and the
 * cycle of the last request parsed on it (the one a client error arriving now belongs after).
 */
import type { Socket } from 'node:net';

/** What a connection needs to know of a cycle. */
export interface LiveCycle {
  connectionClosed(): void;
}

export class Connection<C extends LiveCycle = LiveCycle> {
  readonly live = new Set<C>();
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
      for (const cycle of this.live) cycle.connectionClosed();
      this.live.clear();
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
