/**
 * `TestClient.websocketConnect()`: a WebSocket session with an app in process, no socket. The
 * client side speaks in payloads (`sendText`, `receiveJson`); the app sees ASGI messages, in the
 * order a server would hand them over.
 */
import type {
  ASGIReceiveEvent,
  ASGISendEvent,
  Header,
  WebSocketReceiveMessage,
  WebSocketScope,
  WebSocketSendMessage,
} from '../../generated/index.js';
import { fromLatin1 } from '../http/headers.js';
import { decodePath, encodeLatin1 } from '../http/target.js';
import type { ASGIApp } from '../protocol.js';
import { callApp } from '../server/call-app.js';
import { WebSocketDisconnect } from '../websocket/disconnect.js';
import { asBytes, asJson, asText, type JsonMode } from '../websocket/payload.js';

export interface WebSocketConnectOptions {
  /** Offered in `Sec-WebSocket-Protocol`, and so in `scope.subprotocols`. */
  subprotocols?: readonly string[];
  /** Extra handshake request headers. */
  headers?: Record<string, string> | Iterable<readonly [string, string]>;
}

/** The app refused the handshake: `response` is what a client would have seen (403 for a plain close). */
export class WebSocketDenied extends Error {
  override readonly name = 'WebSocketDenied';
  constructor(readonly response: Response) {
    super(`the app refused the WebSocket handshake with ${response.status}`);
  }
}

/** What the app sent the client after accepting: a data message, or its close. */
export type WebSocketClientMessage =
  | { type: 'websocket.send'; text?: string | null; bytes?: Uint8Array | null }
  | { type: 'websocket.close'; code: number; reason: string };

/** How the session is set up: everything the TestClient knows that the scope needs. */
export interface SessionSetup {
  scope: WebSocketScope;
  raiseAppErrors: boolean;
  /** Hands the app's run to the client, so that `settled()` waits for it too. */
  track: (run: Promise<void>) => void;
}

const encoder = new TextEncoder();
const CONNECT: WebSocketReceiveMessage = { type: 'websocket.connect' };

function toHeaders(list: readonly Header[] | undefined): Headers {
  const headers = new Headers();
  for (const [name, value] of list ?? []) headers.append(fromLatin1(name), fromLatin1(value));
  return headers;
}

/** A FIFO whose `take()` waits for the next `put()`. */
class Channel<T> {
  private readonly items: T[] = [];
  private waiter: ((item: T) => void) | undefined;

  put(item: T): void {
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter(item);
    } else {
      this.items.push(item);
    }
  }

  take(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}

type Outcome = { message: WebSocketClientMessage } | { error: unknown };

/** The client's side of an accepted connection. */
export class WebSocketTestSession {
  /** The subprotocol the app chose, or null. */
  readonly subprotocol: string | null;
  /** The extra headers the app put on its handshake response. */
  readonly headers: Headers;
  private clientClosed = false;

  /** @internal Made by `TestClient.websocketConnect`. */
  constructor(
    accept: { subprotocol?: string | null; headers?: Header[] },
    private readonly toApp: Channel<WebSocketReceiveMessage>,
    private readonly fromApp: Channel<Outcome>,
    private readonly onClientClose: (code: number, reason: string) => void,
  ) {
    this.subprotocol = accept.subprotocol ?? null;
    this.headers = toHeaders(accept.headers);
  }

  private put(message: WebSocketReceiveMessage): void {
    if (this.clientClosed) throw new Error('the test session is closed');
    this.toApp.put(message);
  }

  sendText(data: string): void {
    this.put({ type: 'websocket.receive', text: data });
  }

  sendBytes(data: Uint8Array): void {
    this.put({ type: 'websocket.receive', bytes: data });
  }

  sendJson(data: unknown, mode: 'text' | 'binary' = 'text'): void {
    const text = JSON.stringify(data);
    if (mode === 'text') this.sendText(text);
    else this.sendBytes(encoder.encode(text));
  }

  /** The next message the app sent; an error the app threw after accepting rejects it. */
  async receive(): Promise<WebSocketClientMessage> {
    const outcome = await this.fromApp.take();
    if ('error' in outcome) throw outcome.error;
    return outcome.message;
  }

  /** The next data message's payload; the app's close rejects with `WebSocketDisconnect`. */
  private async receiveData(): Promise<string | Uint8Array> {
    const message = await this.receive();
    if (message.type === 'websocket.close') throw new WebSocketDisconnect(message.code, message.reason);
    return message.text ?? message.bytes!;
  }

  async receiveText(): Promise<string> {
    return asText(await this.receiveData());
  }

  async receiveBytes(): Promise<Uint8Array> {
    return asBytes(await this.receiveData());
  }

  async receiveJson(mode: JsonMode = 'text'): Promise<unknown> {
    return asJson(await this.receiveData(), mode);
  }

  /** The client closes: the app's `receive()` answers `websocket.disconnect` with `code` and `reason`. */
  close(code = 1000, reason = ''): void {
    if (this.clientClosed) return;
    this.clientClosed = true;
    this.onClientClose(code, reason);
  }
}

/** Runs `app` on a WebSocket scope; resolves once it accepts, rejects when it refuses or fails first. */
export function openWebSocket(app: ASGIApp, setup: SessionSetup): Promise<WebSocketTestSession> {
  const toApp = new Channel<WebSocketReceiveMessage>();
  const fromApp = new Channel<Outcome>();
  let accepted = false;
  let closedByApp = false;
  let gone: { code: number; reason: string } | undefined;
  let denial: { status: number; headers: Header[]; body: Uint8Array[] } | undefined;
  let settle!: { resolve: (session: WebSocketTestSession) => void; reject: (error: unknown) => void };
  const handshake = new Promise<WebSocketTestSession>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const deny = (response: Response) => settle.reject(new WebSocketDenied(response));

  const onClientClose = (code: number, reason: string) => {
    gone = { code, reason };
    toApp.put({ type: 'websocket.disconnect', code, reason });
  };
  toApp.put(CONNECT);

  const receive = async (): Promise<ASGIReceiveEvent> => {
    const message = await toApp.take();
    // Every receive() after the disconnect answers it again.
    if (message.type === 'websocket.disconnect') toApp.put(message);
    return message;
  };

  const send = async (event: ASGISendEvent): Promise<void> => {
    const message = event as WebSocketSendMessage;
    if (gone !== undefined) throw new WebSocketDisconnect(gone.code, gone.reason);
    switch (message.type) {
      case 'websocket.accept':
        accepted = true;
        settle.resolve(new WebSocketTestSession(message, toApp, fromApp, onClientClose));
        return;
      case 'websocket.send':
        fromApp.put({ message: { type: 'websocket.send', text: message.text, bytes: message.bytes } as WebSocketClientMessage });
        return;
      case 'websocket.close':
        closedByApp = true;
        if (accepted) fromApp.put({ message: { type: 'websocket.close', code: message.code ?? 1000, reason: message.reason ?? '' } });
        else deny(new Response(null, { status: 403 }));
        return;
      case 'websocket.http.response.start':
        denial = { status: message.status, headers: message.headers ?? [], body: [] };
        return;
      case 'websocket.http.response.body':
        if (denial === undefined) throw new Error("'websocket.http.response.body' before its start");
        if (message.body !== undefined && message.body.length > 0) denial.body.push(message.body);
        if (message.more_body !== true) {
          closedByApp = true;
          const body = Buffer.concat(denial.body);
          deny(new Response(denial.status === 204 || denial.status === 304 ? null : body, { status: denial.status, headers: toHeaders(denial.headers) }));
        }
        return;
      default:
        throw new Error(`Unexpected ASGI message '${(message as { type: string }).type}' on a WebSocket`);
    }
  };

  const ended = (error: unknown) => {
    if (!accepted) {
      if (closedByApp) return; // already refused
      if (error === undefined) settle.reject(new Error('the app returned without accepting or closing the WebSocket'));
      else if (setup.raiseAppErrors) settle.reject(error);
      else deny(new Response('Internal Server Error', { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } }));
      return;
    }
    if (closedByApp || gone !== undefined) {
      if (error !== undefined && setup.raiseAppErrors && !(error instanceof WebSocketDisconnect)) fromApp.put({ error });
      return;
    }
    // After accepting: a return closes with 1000; a throw surfaces in receive(), or is a 1011.
    if (error !== undefined && setup.raiseAppErrors) fromApp.put({ error });
    else fromApp.put({ message: { type: 'websocket.close', code: error === undefined ? 1000 : 1011, reason: '' } });
  };

  const run = callApp(app, setup.scope, receive, send).then(() => ended(undefined), (error: unknown) => ended(error));
  setup.track(run);
  return handshake;
}

/** The scope of a WebSocket request to `url` from the test client. */
export function testWebSocketScope(
  url: URL,
  options: WebSocketConnectOptions,
  context: { rootPath: string; client: [string, number]; state: Record<string, unknown> | undefined },
): WebSocketScope {
  const headers: Header[] = [[encodeLatin1('host'), encodeLatin1(url.host)]];
  const extra = options.headers === undefined ? [] : Symbol.iterator in options.headers
    ? [...(options.headers as Iterable<readonly [string, string]>)]
    : Object.entries(options.headers);
  for (const [name, value] of extra) {
    // What fetch's Headers refuses: a header is bytes, and the wire could not carry this value.
    if (/[^\x00-\xff]/.test(value)) throw new TypeError(`header ${name}: ${JSON.stringify(value)} is not a latin-1 string`);
    headers.push([encodeLatin1(name.toLowerCase()), encodeLatin1(value)]);
  }
  const subprotocols = [...(options.subprotocols ?? [])];
  if (subprotocols.length > 0) headers.push([encodeLatin1('sec-websocket-protocol'), encodeLatin1(subprotocols.join(', '))]);
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  const scope: WebSocketScope = {
    type: 'websocket',
    asgi: { version: '3.0', spec_version: '2.5' },
    http_version: '1.1',
    scheme: secure ? 'wss' : 'ws',
    path: decodePath(url.pathname), // as fetch() does: the URL's path includes root_path
    raw_path: encodeLatin1(url.pathname),
    query_string: encodeLatin1(url.search.slice(1)),
    root_path: context.rootPath,
    headers,
    client: context.client,
    server: [url.hostname, url.port === '' ? (secure ? 443 : 80) : Number(url.port)],
    subprotocols,
    extensions: { 'websocket.http.response': {} },
  };
  if (context.state !== undefined) scope.state = { ...context.state };
  return scope;
}
