/**
 * WebSocket for `serve`: `Upgrade: websocket` requests become `websocket` scopes, with the
 * framing left to the `ws` package (`noServer`, `handleUpgrade`). Behaviour follows uvicorn: the
 * handshake completes only on `websocket.accept`; close before it answers 403; a denial response
 * goes out as plain HTTP; an app that fails before accepting gets 500, after accepting 1011.
 */
import { ServerResponse, STATUS_CODES, validateHeaderName, validateHeaderValue, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import type {
  Header,
  HTTPScope,
  WebSocketDisconnectEvent,
  WebSocketReceiveEvent,
  WebSocketReceiveMessage,
  WebSocketScope,
  WebSocketSendMessage,
} from '../../generated/index.js';
import type { ASGIApp, Receive, Send } from '../protocol.js';
import { WebSocketDisconnect } from '../websocket/disconnect.js';
import { callApp } from '../server/call-app.js';
import type { Logger } from '../server/logger.js';
import { refuseOnSocket } from './refuse.js';
import { httpScope, type ScopeContext } from './scope.js';

export type WebSocketLogger = Pick<Logger, 'error'>;

export interface WebSocketUpgradeOptions {
  /** The scope context serve uses for HTTP; `http`/`https` become `ws`/`wss`. */
  context: ScopeContext;
  /**
   * The HTTP scope of a request, as serve builds it for HTTP (proxy headers applied); the
   * WebSocket scope is made from it. Default: `httpScope(req, context)`.
   */
  scope?: (req: IncomingMessage) => HTTPScope;
  /**
   * The status an upgrade is refused with before its app runs (serve's limits, shared with its
   * HTTP requests), or 0 to let it through. It is written on the raw socket, which is then closed.
   */
  refusal?: (req: IncomingMessage) => number;
  logger: WebSocketLogger;
  /** Largest incoming message in bytes; past it the connection closes with 1009. Default 16 MiB. */
  maxMessage?: number;
  /** Ping interval in ms; a connection with no pong by the next ping is dropped. 0 disables. Default 20 000. */
  pingInterval?: number;
}

const CONNECT: WebSocketReceiveMessage = Object.freeze({ type: 'websocket.connect' });
const EXTENSIONS = Object.freeze({ 'websocket.http.response': {} });
const ASGI = Object.freeze({ version: '3.0', spec_version: '2.5' }) as WebSocketScope['asgi'];
const RESOLVED: Promise<void> = Promise.resolve();
// Incoming messages queued while the app is busy; past either bound the socket is paused.
const QUEUE_MESSAGES = 16;
const QUEUE_BYTES = 1 << 20;
// Bytes a client may send before the handshake is answered (it should send none).
const EARLY_BYTES = 64 * 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const KEY = /^[+/0-9A-Za-z]{22}==$/;

/**
 * The close code ws sends when it fails a connection, by its error code: the app hears it in
 * `websocket.disconnect` rather than the 1006 ws reports once it has stopped reading.
 */
const FAILURE_CODE: Record<string, number> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 1008,
};

/**
 * The handshake and denial headers are written as raw bytes, past node:http's own checks, so the
 * same checks run here: with validation off, a CR or LF from the app must not split the response.
 */
function checkHeaderBytes(headers: readonly Header[]): void {
  for (const [name, value] of headers) {
    validateHeaderName(latin1(name));
    validateHeaderValue(latin1(name), latin1(value));
  }
}

/** The client's offered subprotocols, or null when the header is malformed (ws then answers 400). */
function offeredSubprotocols(header: string | undefined): string[] | null {
  if (header === undefined) return [];
  const offered = header.split(',').map((s) => s.trim());
  if (offered.some((s) => !TOKEN.test(s)) || new Set(offered).size !== offered.length) return null;
  return offered;
}

/** Whether ws would complete this handshake; anything else is ws's to refuse, before the app runs. */
function isWebSocketHandshake(req: IncomingMessage): boolean {
  const version = req.headers['sec-websocket-version'];
  return req.method === 'GET'
    && req.headers.upgrade?.toLowerCase() === 'websocket'
    && KEY.test(req.headers['sec-websocket-key'] ?? '')
    && (version === '13' || version === '8');
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/**
 * A denial response's headers, less those that frame it: the server frames the body it writes
 * (content-length, or chunked when it comes in pieces) and closes after it, whatever the app said.
 */
function pushHeaders(lines: string[], headers: readonly Header[]): void {
  for (const [name, value] of headers) {
    const n = latin1(name);
    const lower = n.toLowerCase();
    if (lower !== 'content-length' && lower !== 'transfer-encoding' && lower !== 'connection') lines.push(`${n}: ${latin1(value)}`);
  }
}

/** Whether a request says a body follows its head. */
function announcesBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

const UPGRADE_BODY_REFUSED = Buffer.from('Upgrade on a request with a body is not supported; send it without the Upgrade header');

/**
 * A non-WebSocket Upgrade (h2c) with a body. uvicorn (h11) ignores an Upgrade it does not speak
 * and reads the body as usual, but node:http's parser stops at the head of any Upgrade request
 * once an 'upgrade' listener exists: the body is left raw on the socket, and the request handed
 * back to the server would read as bodiless. Reading it here would mean parsing content-length
 * and chunked framing by hand, so such a request is refused whole (501, then close), never served
 * with its body lost; the client may resend it without Upgrade.
 */
function refuseUpgradeBody(socket: Duplex): void {
  socket.on('error', () => {});
  socket.resume(); // the unread body is discarded, not left to stall the close
  socket.end(Buffer.concat([
    Buffer.from(`HTTP/1.1 501 Not Implemented\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${UPGRADE_BODY_REFUSED.length}\r\nconnection: close\r\n\r\n`, 'latin1'),
    UPGRADE_BODY_REFUSED,
  ]));
}

function requestLine(req: IncomingMessage): string {
  return `"${req.method ?? ''} ${req.url ?? ''} HTTP/${req.httpVersion}" (WebSocket)`;
}

export function webSocketScope(req: IncomingMessage, context: ScopeContext, subprotocols: string[]): WebSocketScope {
  return webSocketScopeOf(httpScope(req, context), subprotocols);
}

/** The WebSocket scope of an upgrade request whose HTTP scope is `http`. */
export function webSocketScopeOf(http: HTTPScope, subprotocols: string[]): WebSocketScope {
  const scope: WebSocketScope = {
    type: 'websocket',
    asgi: ASGI,
    http_version: '1.1',
    scheme: http.scheme === 'https' ? 'wss' : 'ws',
    path: http.path,
    raw_path: http.raw_path ?? null,
    query_string: http.query_string,
    root_path: http.root_path ?? '',
    headers: http.headers,
    client: http.client ?? null,
    server: http.server ?? null,
    subprotocols,
    extensions: EXTENSIONS,
  };
  if (http.state !== undefined) scope.state = http.state;
  return scope;
}

/** What `websocket.accept` asked for, read by ws's hooks while it writes the 101 response. */
interface Accepting {
  subprotocol: string | null;
  headers: readonly Header[];
}

/** One connection, from the upgrade request to the app's return: uvicorn's flags, and a queue. */
class Connection {
  accepted = false;
  /** The app sent `websocket.close`, or finished a denial response. */
  closed = false;
  /** The connection is over; `receive()` answers `gone` from now on. */
  disconnected = false;
  responseStarted = false;
  /** When ping/pong is on: whether a pong came since the last ping. */
  alive = true;
  ws: WsSocket | undefined;

  private connectSent = false;
  private gone: WebSocketDisconnectEvent | undefined;
  private readonly queue: WebSocketReceiveEvent[] = [];
  private readonly sizes: number[] = [];
  private queuedBytes = 0;
  private paused = false;
  private waiting: ((message: WebSocketReceiveMessage) => void) | undefined;
  /** The receive() that `waiting` settles: a second call before it settles gets the same one. */
  private pending: Promise<WebSocketReceiveMessage> | undefined;
  private drained: (() => void) | undefined;
  private draining: Promise<void> | undefined;
  private denialChunked = false;
  private denial: { status: number; headers: readonly Header[] } | undefined;

  constructor(
    private readonly upgrades: WebSocketUpgrades,
    readonly req: IncomingMessage,
    readonly socket: Duplex,
    private readonly head: Buffer,
    private readonly offered: readonly string[],
  ) {
    socket.on('error', () => {}); // reported as a disconnect through 'close'
    socket.once('close', this.onSocketClose);
    // Until the handshake is answered the socket is read, so that a client that gives up is
    // noticed (its app's receive() answers websocket.disconnect rather than waiting forever).
    // A client sends no frames before the 101; any early bytes are kept for ws, within a bound.
    socket.on('data', this.onEarlyData);
    socket.once('end', this.onSocketClose);
  }

  private early: Buffer[] = [];
  private earlyBytes = 0;

  private readonly onEarlyData = (chunk: Buffer): void => {
    this.earlyBytes += chunk.length;
    if (this.earlyBytes > EARLY_BYTES) this.socket.destroy();
    else this.early.push(chunk);
  };

  private readonly onSocketClose = (): void => {
    // Before the handshake, and after it if ws did not see a close frame first.
    this.disconnect(1006, '');
  };

  disconnect(code: number, reason: string): void {
    if (this.disconnected) return;
    this.disconnected = true;
    this.gone = { type: 'websocket.disconnect', code, reason };
    if (this.waiting !== undefined && this.queue.length === 0) {
      const waiting = this.waiting;
      this.waiting = undefined;
      this.pending = undefined;
      waiting(this.gone);
    }
    this.drained?.();
  }

  readonly receive: Receive = () => {
    if (!this.connectSent) {
      this.connectSent = true;
      return Promise.resolve(CONNECT);
    }
    if (this.queue.length > 0) {
      const message = this.queue.shift()!;
      this.queuedBytes -= this.sizes.shift()!;
      if (this.paused && this.queue.length === 0) {
        this.paused = false;
        this.ws?.resume();
      }
      return Promise.resolve(message);
    }
    if (this.gone !== undefined) return Promise.resolve(this.gone);
    // The app is receiving: messages may flow again.
    if (this.paused) {
      this.paused = false;
      this.ws?.resume();
    }
    // An app that asks again before the last answer (racing receive() against something else)
    // shares it, rather than leaving the first call unsettled forever.
    return (this.pending ??= new Promise((resolve) => {
      this.waiting = resolve;
    }));
  };

  private readonly onMessage = (data: Buffer, isBinary: boolean): void => {
    // After the app's close only the disconnect is for it; ws reads on to finish the handshake.
    if (this.closed) return;
    const message: WebSocketReceiveEvent = isBinary
      ? { type: 'websocket.receive', bytes: data }
      : { type: 'websocket.receive', text: data.toString('utf8') };
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      this.pending = undefined;
      waiting(message);
      return;
    }
    this.queue.push(message);
    this.sizes.push(data.length);
    this.queuedBytes += data.length;
    // Backpressure: while the app is not receiving, the client's messages wait in its socket.
    if (!this.paused && (this.queue.length >= QUEUE_MESSAGES || this.queuedBytes >= QUEUE_BYTES)) {
      this.paused = true;
      this.ws!.pause();
    }
  };

  readonly send: Send = (message) => {
    const m = message as WebSocketSendMessage;
    if (m.type === 'websocket.send') {
      if (this.disconnected) return Promise.reject(this.disconnectError());
      if (!this.accepted || this.closed) return Promise.reject(this.unexpected(m.type));
      const data = typeof m.text === 'string' ? m.text : m.bytes;
      if (!(typeof data === 'string' || data instanceof Uint8Array)) {
        return Promise.reject(new TypeError("'websocket.send' needs a string 'text' or Uint8Array 'bytes'"));
      }
      this.ws!.send(data);
      // send() resolves while the socket takes more; past its high-water mark it waits for drain.
      return this.socket.writableNeedDrain ? this.drain() : RESOLVED;
    }
    if (this.disconnected) return Promise.reject(this.disconnectError());
    switch (m.type) {
      case 'websocket.accept':
        if (this.accepted || this.closed || this.responseStarted) return Promise.reject(this.unexpected(m.type));
        try {
          checkHeaderBytes(m.headers ?? []);
        } catch (error) {
          return Promise.reject(error);
        }
        // RFC 6455 4.1: the server picks one of the client's offers. ws writes the choice raw, so
        // this check is also what keeps an app's CR LF out of the 101 when validation is off.
        if (m.subprotocol != null && !this.offered.includes(m.subprotocol)) {
          return Promise.reject(new Error(`'websocket.accept' chose subprotocol ${JSON.stringify(m.subprotocol)}, which the client did not offer`));
        }
        return this.accept({ subprotocol: m.subprotocol ?? null, headers: m.headers ?? [] });
      case 'websocket.close':
        if (this.closed || this.responseStarted) return Promise.reject(this.unexpected(m.type));
        if (this.accepted) {
          try {
            this.closeSocket(m.code ?? 1000, m.reason ?? ''); // ws refuses codes and reasons a close frame cannot carry
          } catch (error) {
            return Promise.reject(error);
          }
        } else {
          this.respond(403, [], Buffer.alloc(0));
        }
        this.closed = true;
        return RESOLVED;
      case 'websocket.http.response.start':
        if (this.accepted || this.closed || this.responseStarted) return Promise.reject(this.unexpected(m.type));
        if (!Number.isInteger(m.status) || m.status < 200 || m.status > 599) {
          return Promise.reject(new RangeError(`a denial response needs a final status (200-599), not ${String(m.status)}`));
        }
        try {
          checkHeaderBytes(m.headers ?? []);
        } catch (error) {
          return Promise.reject(error);
        }
        this.responseStarted = true;
        this.denial = { status: m.status, headers: m.headers ?? [] };
        return RESOLVED;
      case 'websocket.http.response.body':
        if (!this.responseStarted || this.closed) return Promise.reject(this.unexpected(m.type));
        return this.denialBody(m.body ?? Buffer.alloc(0), m.more_body === true);
      default:
        return Promise.reject(this.unexpected((m as { type: string }).type));
    }
  };

  /** Starts the close handshake. What the client sent before its reply is dropped, and the reply must be read. */
  private closeSocket(code: number, reason: string): void {
    this.ws!.close(code, reason);
    this.queue.length = 0;
    this.sizes.length = 0;
    this.queuedBytes = 0;
    if (this.paused) {
      this.paused = false;
      this.ws!.resume();
    }
  }

  private disconnectError(): WebSocketDisconnect {
    return new WebSocketDisconnect(this.gone?.code ?? 1006, this.gone?.reason ?? '');
  }

  private unexpected(type: string): Error {
    const state = this.closed ? "after 'websocket.close'" : this.accepted ? "after 'websocket.accept'" : this.responseStarted ? 'during the denial response' : 'before the handshake was answered';
    return new Error(`Unexpected ASGI message '${type}' ${state}`);
  }

  /** Waits for the socket to take more; the connection ending settles it too (sends then raise). */
  private drain(): Promise<void> {
    return (this.draining ??= new Promise<void>((resolve, reject) => {
      const done = (): void => {
        this.drained = undefined;
        this.draining = undefined;
        this.socket.off('drain', done);
        if (this.disconnected) reject(this.disconnectError());
        else resolve();
      };
      this.drained = done;
      this.socket.once('drain', done);
    }));
  }

  private accept(accepting: Accepting): Promise<void> {
    const { socket } = this;
    if (!socket.readable || !socket.writable) {
      this.disconnect(1006, '');
      return Promise.reject(this.disconnectError());
    }
    // ws takes the socket over synchronously, so no data event can fall between the two readers.
    socket.off('data', this.onEarlyData);
    socket.off('end', this.onSocketClose);
    const head = this.early.length === 0 ? this.head : Buffer.concat([this.head, ...this.early]);
    this.early = [];
    let ws: WsSocket | undefined;
    this.upgrades.completeHandshake(this.req, socket, head, accepting, (done) => {
      ws = done;
    });
    // ws completes the handshake synchronously (no verifyClient, no compression to negotiate).
    if (ws === undefined) {
      this.disconnect(1006, '');
      return Promise.reject(this.disconnectError());
    }
    this.accepted = true;
    this.ws = ws;
    socket.off('close', this.onSocketClose);
    // ws fails a connection that breaks the protocol with a close code of its own; that code,
    // not the 1006 of a socket it stopped reading, is what the app hears.
    let failure: number | undefined;
    ws.on('error', (error: Error & { code?: string }) => {
      failure ??= FAILURE_CODE[error.code ?? ''] ?? 1002;
    });
    ws.on('message', this.onMessage);
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (code === 1006 && failure !== undefined) this.disconnect(failure, '');
      else this.disconnect(code, reason.toString('utf8'));
    });
    return RESOLVED;
  }

  /** Ends the handshake with a plain HTTP response instead of the 101. */
  respond(status: number, headers: readonly Header[], body: Uint8Array): void {
    this.responseStarted = true;
    this.closed = true;
    const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`];
    pushHeaders(lines, headers);
    lines.push(`content-length: ${body.length}`, 'connection: close', '', '');
    this.socket.end(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]));
  }

  private denialBody(body: Uint8Array, more: boolean): Promise<void> {
    const { socket } = this;
    if (!this.denialChunked) {
      const { status, headers } = this.denial!;
      if (!more) {
        this.respond(status, headers, body);
        return RESOLVED;
      }
      // A body in several chunks goes out as it comes, chunked.
      this.denialChunked = true;
      const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`];
      pushHeaders(lines, headers);
      lines.push('transfer-encoding: chunked', 'connection: close', '', '');
      socket.write(lines.join('\r\n'), 'latin1');
    }
    if (body.length > 0) socket.write(`${body.length.toString(16)}\r\n`);
    if (body.length > 0) socket.write(body);
    if (body.length > 0) socket.write('\r\n');
    if (!more) {
      this.closed = true;
      socket.end('0\r\n\r\n');
      return RESOLVED;
    }
    return socket.writableNeedDrain ? this.drain() : RESOLVED;
  }

  /** The app is done: answer for it when it failed or left the connection open. */
  finish(error: unknown, logger: WebSocketLogger): void {
    if (error !== undefined && !(error instanceof WebSocketDisconnect && this.disconnected)) {
      logger.error(`Exception in ASGI application, ${requestLine(this.req)}`, error);
    } else if (error === undefined && !this.accepted && !this.closed && !this.disconnected) {
      logger.error(this.responseStarted
        ? `ASGI application returned before completing its denial response, ${requestLine(this.req)}`
        : `ASGI application returned without accepting or closing the WebSocket, ${requestLine(this.req)}`);
    }
    if (this.accepted) {
      // After the handshake: close normally on return, 1011 (internal error) on a throw.
      if (!this.closed && !this.disconnected) this.closeSocket(error === undefined ? 1000 : 1011, '');
      this.closed = true;
    } else if (this.disconnected) {
      this.socket.destroy(); // the client left during the handshake; a half-open socket is not kept
    } else if (!this.closed) {
      if (this.responseStarted) this.socket.destroy(); // a denial cut short: the client sees it end early
      else this.respond(500, [[Buffer.from('content-type'), Buffer.from('text/plain; charset=utf-8')]], Buffer.from('Internal Server Error'));
    }
  }

  /** Server shutdown: 1012 (service restart) to an open socket, a plain close to a pending handshake. */
  shutdown(): void {
    if (this.disconnected) return;
    if (this.accepted) {
      if (!this.closed) this.closeSocket(1012, 'server shutting down');
      this.closed = true;
    } else {
      this.socket.destroy();
    }
  }

  /** Past the grace period: no more waiting for a close handshake. */
  terminate(): void {
    if (this.ws !== undefined) this.ws.terminate();
    else this.socket.destroy();
  }
}

/**
 * The upgrade handler `serve` installs: `server.on('upgrade', upgrades.handle)`, and
 * `upgrades.shutdown(grace)` when the server closes.
 */
export class WebSocketUpgrades {
  private readonly wss: WebSocketServer;
  private readonly live = new Set<Connection>();
  /** Upgraded sockets until they close: one may outlive its app, in ws's close handshake. */
  private readonly sockets = new Set<Duplex>();
  private readonly running = new Set<Promise<void>>();
  private accepting: Accepting | undefined;
  private pinger: NodeJS.Timeout | undefined;

  constructor(
    private readonly app: ASGIApp,
    private readonly options: WebSocketUpgradeOptions,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.maxMessage ?? 16 * 1024 * 1024,
      // The app's choice, never ws's default of the client's first offer.
      handleProtocols: () => this.accepting?.subprotocol ?? false,
    });
    const upgrades = this;
    this.handle = function handle(this: unknown, req: IncomingMessage, socket: Duplex, head: Buffer): void {
      upgrades.upgrade(this, req, socket, head);
    };
    this.wss.on('headers', (headers: string[]) => {
      for (const [name, value] of this.accepting?.headers ?? []) headers.push(`${latin1(name)}: ${latin1(value)}`);
    });
    const interval = options.pingInterval ?? 20_000;
    if (interval > 0) {
      this.pinger = setInterval(() => this.ping(), interval);
      this.pinger.unref();
    }
  }

  /** Connections whose app is still running. */
  get size(): number {
    return this.live.size;
  }

  /**
   * The 'upgrade' listener. node:http sends every request with an Upgrade header here once one
   * is installed; those that do not ask for WebSocket (`h2c`, from `curl --http2`) are handed
   * back to the server as plain requests, as if there were no listener.
   */
  readonly handle: (this: unknown, req: IncomingMessage, socket: Duplex, head: Buffer) => void;

  private upgrade(server: unknown, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (req.headers.upgrade?.toLowerCase() !== 'websocket' && server !== null && typeof (server as Server).emit === 'function') {
      if (announcesBody(req)) {
        refuseUpgradeBody(socket);
        return;
      }
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket as Socket);
      res.once('finish', () => {
        res.detachSocket(socket as Socket);
        socket.end();
      });
      (server as Server).emit('request', req, res);
      return;
    }
    const refused = this.options.refusal?.(req) ?? 0;
    if (refused !== 0) {
      // node:http has handed the socket over: the answer goes out as raw bytes.
      refuseOnSocket(socket as Socket, refused);
      return;
    }
    const subprotocols = isWebSocketHandshake(req) ? offeredSubprotocols(req.headers['sec-websocket-protocol']) : null;
    if (subprotocols === null) {
      // Not a handshake ws would complete: let it answer with the right 4xx; the app never runs.
      this.wss.handleUpgrade(req, socket, head, (ws) => ws.terminate());
      return;
    }
    const connection = new Connection(this, req, socket, head, subprotocols);
    this.live.add(connection);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const http = this.options.scope !== undefined ? this.options.scope(req) : httpScope(req, this.options.context);
    const scope = webSocketScopeOf(http, subprotocols);
    // callApp: a sync throw (validation off, the user's own function) must fail this connection, not the process.
    const run = callApp(this.app, scope, connection.receive, connection.send).then(
      () => connection.finish(undefined, this.options.logger),
      (error: unknown) => connection.finish(error, this.options.logger),
    ).finally(() => {
      this.live.delete(connection);
      this.running.delete(run);
    });
    this.running.add(run);
  }

  /** Called by a connection on `websocket.accept`: ws writes the 101 with the app's choices. */
  completeHandshake(req: IncomingMessage, socket: Duplex, head: Buffer, accepting: Accepting, done: (ws: WsSocket) => void): void {
    this.accepting = accepting;
    try {
      this.wss.handleUpgrade(req, socket, head, done);
    } finally {
      this.accepting = undefined;
    }
  }

  private ping(): void {
    for (const connection of this.live) {
      const ws = connection.ws;
      if (ws === undefined || connection.disconnected || ws.readyState !== ws.OPEN) continue;
      // A paused socket reads nothing, pongs included: the app's own backpressure is no timeout.
      if (ws.isPaused) continue;
      if (!connection.alive) {
        ws.terminate();
        continue;
      }
      connection.alive = false;
      ws.ping();
    }
  }

  /**
   * Closes every connection with 1012, waits for their apps to return (at most `grace` ms),
   * then cuts what is left.
   */
  async shutdown(grace: number): Promise<void> {
    clearInterval(this.pinger);
    for (const connection of this.live) connection.shutdown();
    if (this.running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const over = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, grace);
      });
      await Promise.race([Promise.allSettled([...this.running]), over]);
      clearTimeout(timer);
    }
    for (const connection of this.live) connection.terminate();
    // node:http no longer tracks upgraded sockets, so server.close() would wait on these.
    for (const socket of this.sockets) socket.destroy();
  }
}
