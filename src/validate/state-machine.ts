/**
 * The order of messages on one connection, as transition tables. Each row is a state, each entry
 * a step that is legal in it and the state it leads to; a step missing from a row is a violation.
 * Exported for server authors who want to enforce the same rules as `validate`.
 *
 * The tables check order only. Shapes are the generated guards' job; header bytes and status
 * codes are in header-rules.ts.
 */
import type {
  HTTPReceiveEvent,
  HTTPSendEvent,
  LifespanReceiveEvent,
  LifespanSendEvent,
  WebSocketReceiveMessage,
  WebSocketSendMessage,
} from '../../generated/index.js';
import { statusHasBody } from '../http/protocol-constants.js';
import { ProtocolError, type Direction } from './protocol-error.js';

// ---------------------------------------------------------------------------------------------
// HTTP, app to server.
//
// `+trailers` states are the same as their plain twins, except that the last body leads to
// `trailers` instead of `complete`, because the start said `trailers: true`.

export type HTTPSendState =
  | 'idle' // nothing sent
  | 'debugged' // http.response.debug sent, no start yet
  | 'started' // start sent, no body yet
  | 'streaming' // some body sent, more to come
  | 'started+trailers'
  | 'streaming+trailers'
  | 'trailers' // last body sent, trailers announced and due
  | 'complete'; // the response is over; nothing more may be sent

export type HTTPSendStep =
  | 'debug'
  | 'early_hint'
  | 'start'
  | 'start+trailers'
  | 'body'
  | 'body.last'
  | 'zerocopysend'
  | 'zerocopysend.last'
  | 'pathsend'
  | 'push'
  | 'trailers'
  | 'trailers.last'
  | 'extension'; // a message type tsgi's schemas do not define (a user's extension)

type Table<S extends string, T extends string> = Readonly<Record<S, Readonly<Partial<Record<T, S>>>>>;

// prettier-ignore
export const HTTP_SEND: Table<HTTPSendState, HTTPSendStep> = {
  // Debug info goes once, before the start. Early hints (103) may precede the start, as RFC 8297
  // orders them on the wire, and may follow it until the last body, as the extension text says.
  'idle':               { debug: 'debugged', early_hint: 'idle', start: 'started', 'start+trailers': 'started+trailers' },
  'debugged':           { early_hint: 'debugged', start: 'started', 'start+trailers': 'started+trailers' },
  // A pathsend is the whole body, so it is legal only before any other body.
  'started':            { body: 'streaming', 'body.last': 'complete', zerocopysend: 'streaming', 'zerocopysend.last': 'complete', pathsend: 'complete', push: 'started', early_hint: 'started', extension: 'started' },
  'streaming':          { body: 'streaming', 'body.last': 'complete', zerocopysend: 'streaming', 'zerocopysend.last': 'complete', push: 'streaming', early_hint: 'streaming', extension: 'streaming' },
  'started+trailers':   { body: 'streaming+trailers', 'body.last': 'trailers', zerocopysend: 'streaming+trailers', 'zerocopysend.last': 'trailers', pathsend: 'trailers', push: 'started+trailers', early_hint: 'started+trailers', extension: 'started+trailers' },
  'streaming+trailers': { body: 'streaming+trailers', 'body.last': 'trailers', zerocopysend: 'streaming+trailers', 'zerocopysend.last': 'trailers', push: 'streaming+trailers', early_hint: 'streaming+trailers', extension: 'streaming+trailers' },
  'trailers':           { trailers: 'trailers', 'trailers.last': 'complete' },
  'complete':           {},
};

/** Which step a (well-formed) message the app sends takes. */
export function httpSendStep(message: HTTPSendEvent | { type: string }): HTTPSendStep {
  const m = message as Partial<Record<'more_body' | 'trailers' | 'more_trailers', boolean>> & { type: string };
  switch (m.type) {
    case 'http.response.start': return m.trailers === true ? 'start+trailers' : 'start';
    case 'http.response.body': return m.more_body === true ? 'body' : 'body.last';
    case 'http.response.zerocopysend': return m.more_body === true ? 'zerocopysend' : 'zerocopysend.last';
    case 'http.response.pathsend': return 'pathsend';
    case 'http.response.trailers': return m.more_trailers === true ? 'trailers' : 'trailers.last';
    case 'http.response.push': return 'push';
    case 'http.response.early_hint': return 'early_hint';
    case 'http.response.debug': return 'debug';
    default: return 'extension';
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP, server to app.

export type HTTPReceiveState = 'reading' | 'read' | 'disconnected';
export type HTTPReceiveStep = 'request' | 'request.last' | 'disconnect';

// prettier-ignore
export const HTTP_RECEIVE: Table<HTTPReceiveState, HTTPReceiveStep> = {
  'reading':      { request: 'reading', 'request.last': 'read', disconnect: 'disconnected' },
  // After the last chunk the server only ever answers http.disconnect, when the client goes.
  'read':         { disconnect: 'disconnected' },
  // Once disconnected, every receive() is http.disconnect again.
  'disconnected': { disconnect: 'disconnected' },
};

export function httpReceiveStep(message: HTTPReceiveEvent): HTTPReceiveStep {
  if (message.type === 'http.disconnect') return 'disconnect';
  return message.more_body === true ? 'request' : 'request.last';
}

// Two rules cross the directions, and HTTPStateMachine checks them beside the tables:
// - After the response is complete, receive() yields http.disconnect, never more body.
// - Once the app has received http.disconnect, it may stop with its response unfinished.
// A send after http.disconnect is no violation: the connection is gone and the server raises
// (ASGI 2.4), an error the app may catch. Reporting it here would change what the app sees.

// ---------------------------------------------------------------------------------------------
// Lifespan, both directions: the server asks, the app answers, once for startup, once for
// shutdown.

export type LifespanState = 'idle' | 'starting' | 'started' | 'stopping' | 'stopped' | 'failed';
export type LifespanStep = LifespanReceiveEvent['type'] | LifespanSendEvent['type'];

// prettier-ignore
export const LIFESPAN: Table<LifespanState, LifespanStep> = {
  'idle':     { 'lifespan.startup': 'starting' },
  'starting': { 'lifespan.startup.complete': 'started', 'lifespan.startup.failed': 'failed' },
  'started':  { 'lifespan.shutdown': 'stopping' },
  'stopping': { 'lifespan.shutdown.complete': 'stopped', 'lifespan.shutdown.failed': 'stopped' },
  'stopped':  {},
  'failed':   {}, // the server exits without serving; there is no shutdown
};

// ---------------------------------------------------------------------------------------------
// WebSocket, both directions in one table: the steps of the two sides have different names, and
// each side's legal moves depend on what the other did (no send before the handshake is answered).

export type WebSocketState =
  | 'connecting' // the server has not yet handed the app 'websocket.connect'
  | 'handshake' // connect received; the app owes accept, close or a denial response
  | 'open' // accepted: messages both ways
  | 'denying' // denial response started, more body to come
  | 'closed' // the app closed (or finished its denial); only 'websocket.disconnect' may follow
  | 'disconnected'; // the app has received 'websocket.disconnect': the connection is over, sends raise

export type WebSocketStep =
  | 'connect' | 'receive' | 'disconnect' // server to app
  | 'accept' | 'send' | 'close' | 'response.start' | 'response.body' | 'response.body.last'; // app to server

// prettier-ignore
export const WEBSOCKET: Table<WebSocketState, WebSocketStep> = {
  'connecting':   { connect: 'handshake' },
  'handshake':    { accept: 'open', close: 'closed', 'response.start': 'denying', disconnect: 'disconnected' },
  'open':         { send: 'open', close: 'closed', receive: 'open', disconnect: 'disconnected' },
  'denying':      { 'response.body': 'denying', 'response.body.last': 'closed', disconnect: 'disconnected' },
  'closed':       { disconnect: 'disconnected' },
  // Every later receive() answers 'websocket.disconnect' again. A send now is no violation, as
  // for HTTP: the server raises WebSocketDisconnect (ASGI 2.4), which the app may catch.
  'disconnected': { disconnect: 'disconnected', accept: 'disconnected', send: 'disconnected', close: 'disconnected', 'response.start': 'disconnected', 'response.body': 'disconnected', 'response.body.last': 'disconnected' },
};

export function webSocketStep(message: WebSocketReceiveMessage | WebSocketSendMessage | { type: string }): WebSocketStep | undefined {
  switch (message.type) {
    case 'websocket.connect': return 'connect';
    case 'websocket.receive': return 'receive';
    case 'websocket.disconnect': return 'disconnect';
    case 'websocket.accept': return 'accept';
    case 'websocket.send': return 'send';
    case 'websocket.close': return 'close';
    case 'websocket.http.response.start': return 'response.start';
    case 'websocket.http.response.body': return (message as { more_body?: boolean }).more_body === true ? 'response.body' : 'response.body.last';
    default: return undefined;
  }
}

// ---------------------------------------------------------------------------------------------

function orderError(direction: Direction, type: string, message: string): ProtocolError {
  return new ProtocolError(message, { direction, type, path: '', rule: 'order' });
}

function describeSendViolation(state: HTTPSendState, step: HTTPSendStep, type: string): string {
  const sent = `app sent '${type}'`;
  if (state === 'complete') return `${sent} after the response was complete`;
  if (step === 'start' || step === 'start+trailers') return `${sent} twice`;
  if (state === 'idle' || state === 'debugged') {
    return step === 'debug' ? `${sent} twice` : `${sent} before 'http.response.start'`;
  }
  if (state === 'trailers') return `${sent} after the last body; the start announced trailers, so 'http.response.trailers' must follow`;
  if (step === 'debug') return `${sent} after 'http.response.start'; debug info goes before the start`;
  if (step === 'trailers' || step === 'trailers.last') {
    return state.endsWith('+trailers')
      ? `${sent} before the last body`
      : `${sent} but 'http.response.start' did not announce trailers (trailers: true)`;
  }
  if (step === 'pathsend') return `${sent} after body messages; a pathsend is the whole body`;
  return `${sent} out of order`;
}

const CONTENT_LENGTH = new Uint8Array([99, 111, 110, 116, 101, 110, 116, 45, 108, 101, 110, 103, 116, 104]);

function isContentLength(name: Uint8Array): boolean {
  if (name.length !== CONTENT_LENGTH.length) return false;
  for (let i = 0; i < name.length; i++) if ((name[i]! | 0x20) !== CONTENT_LENGTH[i]) return false;
  return true;
}

function declaredLength(headers: readonly (readonly [Uint8Array, Uint8Array])[] | undefined): number {
  if (headers === undefined) return -1;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    if (isContentLength(name)) {
      let n = 0;
      for (let j = 0; j < value.length; j++) {
        const digit = value[j]! - 48;
        if (digit < 0 || digit > 9) return -1; // malformed: header-rules reports the bytes, not us
        n = n * 10 + digit;
      }
      return value.length === 0 ? -1 : n;
    }
  }
  return -1;
}

/**
 * The order of one HTTP request-response cycle, in both directions, plus the body accounting a
 * server does: `content-length` against the bytes sent, and no body for 204, 304 and 1xx.
 * `send` and `receive` return the violation, or null after recording the step. They allocate
 * nothing on the legal path.
 */
export class HTTPStateMachine {
  sendState: HTTPSendState = 'idle';
  receiveState: HTTPReceiveState = 'reading';
  private readonly isHead: boolean;
  private expectedLength = -1;
  private sentLength = 0;
  private noBody = false;

  constructor(method = 'GET') {
    this.isHead = method === 'HEAD';
  }

  get responseComplete(): boolean {
    return this.sendState === 'complete';
  }

  get disconnected(): boolean {
    return this.receiveState === 'disconnected';
  }

  send(message: HTTPSendEvent | { type: string }): ProtocolError | null {
    const step = httpSendStep(message);
    const next = HTTP_SEND[this.sendState][step];
    if (next === undefined) return orderError('send', message.type, describeSendViolation(this.sendState, step, message.type));
    if (step === 'start' || step === 'start+trailers') {
      const start = message as { status: number; headers?: [Uint8Array, Uint8Array][] };
      this.noBody = !statusHasBody(start.status);
      // A HEAD response declares the length of the body it does not send.
      this.expectedLength = this.isHead ? -1 : declaredLength(start.headers);
    } else if (step === 'body' || step === 'body.last') {
      const error = this.countBody(message as { type: string; body?: Uint8Array }, step === 'body.last');
      if (error !== null) return error;
    } else if (step === 'zerocopysend' || step === 'zerocopysend.last' || step === 'pathsend') {
      this.expectedLength = -1; // the byte count is the server's to know
    }
    this.sendState = next;
    return null;
  }

  private countBody(message: { type: string; body?: Uint8Array }, last: boolean): ProtocolError | null {
    const length = message.body === undefined ? 0 : message.body.length;
    if (length > 0 && this.noBody && !this.isHead) {
      return new ProtocolError(`app sent ${length} body bytes in a response whose status has no body`, {
        direction: 'send', type: message.type, path: '/body', rule: 'no-body',
      });
    }
    if (this.expectedLength < 0) return null;
    const total = this.sentLength + length;
    if (total > this.expectedLength || (last && total < this.expectedLength)) {
      return new ProtocolError(
        `app sent ${total}${last ? '' : ' or more'} body bytes but 'content-length' says ${this.expectedLength}`,
        { direction: 'send', type: message.type, path: '/body', rule: 'content-length' },
      );
    }
    this.sentLength = total;
    return null;
  }

  receive(message: HTTPReceiveEvent): ProtocolError | null {
    const step = httpReceiveStep(message);
    if (step !== 'disconnect' && this.sendState === 'complete') {
      return orderError('receive', message.type, `server sent '${message.type}' after the response was complete; receive() must then return 'http.disconnect'`);
    }
    const next = HTTP_RECEIVE[this.receiveState][step];
    if (next === undefined) {
      return orderError('receive', message.type, this.receiveState === 'read'
        ? `server sent '${message.type}' after the last body chunk (more_body was false)`
        : `server sent '${message.type}' after 'http.disconnect'; every later receive() must return 'http.disconnect'`);
    }
    this.receiveState = next;
    return null;
  }

  /** Whether the app may return now: the response must be complete unless the client left. */
  finish(): ProtocolError | null {
    if (this.sendState === 'complete' || this.receiveState === 'disconnected') return null;
    const what = this.sendState === 'idle' || this.sendState === 'debugged'
      ? "without sending 'http.response.start'"
      : this.sendState === 'trailers'
        ? "without sending the announced 'http.response.trailers'"
        : 'before the response was complete (no body with more_body: false)';
    return new ProtocolError(`app returned ${what}`, { direction: 'send', type: undefined, path: '', rule: 'incomplete-response' });
  }
}

/** The order of the lifespan conversation. */
export class LifespanStateMachine {
  state: LifespanState = 'idle';

  private step(direction: Direction, message: { type: string }): ProtocolError | null {
    const next = LIFESPAN[this.state][message.type as LifespanStep];
    if (next === undefined) {
      const who = direction === 'send' ? 'app' : 'server';
      return orderError(direction, message.type, `${who} sent '${message.type}' while lifespan is ${this.state}`);
    }
    this.state = next;
    return null;
  }

  send(message: LifespanSendEvent): ProtocolError | null {
    return this.step('send', message);
  }

  receive(message: LifespanReceiveEvent): ProtocolError | null {
    return this.step('receive', message);
  }
}

function describeWebSocketSend(state: WebSocketState, step: WebSocketStep | undefined, type: string): string {
  const sent = `app sent '${type}'`;
  switch (state) {
    case 'connecting': return `${sent} before receiving 'websocket.connect'`;
    case 'handshake': return step === 'response.body' || step === 'response.body.last'
      ? `${sent} before 'websocket.http.response.start'`
      : `${sent} before the handshake was answered; the first message must be 'websocket.accept', 'websocket.close' or 'websocket.http.response.start'`;
    case 'open': return step === 'accept' ? `${sent} twice` : `${sent} after 'websocket.accept'; a denial response can only replace it`;
    case 'denying': return `${sent} during the denial response; only 'websocket.http.response.body' may follow its start`;
    case 'closed': return `${sent} after the connection was closed`;
    case 'disconnected': return `${sent} out of order`; // every send is legal here
  }
}

function describeWebSocketReceive(state: WebSocketState, type: string): string {
  const sent = `server sent '${type}'`;
  switch (state) {
    case 'connecting': return `${sent} before 'websocket.connect'; every WebSocket scope begins with it`;
    case 'handshake': return type === 'websocket.connect' ? `${sent} twice` : `${sent} before the app accepted the connection`;
    case 'open': return `${sent} twice`;
    case 'denying':
    case 'closed': return `${sent} after the app closed or refused the connection; receive() must then return 'websocket.disconnect'`;
    case 'disconnected': return `${sent} after 'websocket.disconnect'; every later receive() must return 'websocket.disconnect'`;
  }
}

/**
 * The order of one WebSocket connection, both directions. `send` and `receive` return the
 * violation, or null after recording the step; the legal path allocates nothing.
 */
export class WebSocketStateMachine {
  state: WebSocketState = 'connecting';

  send(message: WebSocketSendMessage | { type: string }): ProtocolError | null {
    const step = webSocketStep(message);
    const next = step === undefined || step === 'connect' || step === 'receive' || step === 'disconnect' ? undefined : WEBSOCKET[this.state][step];
    if (next === undefined) return orderError('send', message.type, describeWebSocketSend(this.state, step, message.type));
    this.state = next;
    return null;
  }

  receive(message: WebSocketReceiveMessage): ProtocolError | null {
    const step = webSocketStep(message)!;
    const next = WEBSOCKET[this.state][step];
    if (next === undefined) return orderError('receive', message.type, describeWebSocketReceive(this.state, message.type));
    this.state = next;
    return null;
  }

  /** Whether the app may return now: it must have answered the handshake and finished any denial response. */
  finish(): ProtocolError | null {
    if (this.state === 'connecting' || this.state === 'handshake') {
      return new ProtocolError("app returned without answering 'websocket.connect' (with 'websocket.accept', 'websocket.close' or a denial response)", {
        direction: 'send', type: undefined, path: '', rule: 'incomplete-handshake',
      });
    }
    if (this.state === 'denying') {
      return new ProtocolError('app returned before its denial response was complete (no body with more_body: false)', {
        direction: 'send', type: undefined, path: '', rule: 'incomplete-response',
      });
    }
    return null;
  }
}
