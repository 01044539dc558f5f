/**
 * The vocabulary of the protocol: what an app is and what `receive` and `send` are. The message
 * and scope types themselves are generated from schema/ (generated/types.ts).
 */
import type { ASGIReceiveEvent, ASGISendEvent, Scope } from '../generated/index.js';

/** Waits for the next message from the server: a request body chunk, a disconnect, a lifespan event. */
export type Receive<Event = ASGIReceiveEvent> = () => Promise<Event>;

/** Hands one message to the server; resolves when the server has taken it (backpressure). */
export type Send<Event = ASGISendEvent> = (message: Event) => Promise<void>;

/**
 * An ASGI 3 application: called once per connection scope (one HTTP request, one lifespan),
 * it resolves when it has finished with that scope.
 */
export type ASGIApp = (scope: Scope, receive: Receive, send: Send) => Promise<void>;
