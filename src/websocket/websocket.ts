/**
 * `WebSocket`: the app's side of one WebSocket scope, as Starlette's WebSocket class offers it:
 * accept, typed receives and sends, close, and async iteration that ends when the client leaves.
 * A thin layer over `receive` and `send`; the messages themselves stay ASGI's.
 */
import type { WebSocketReceiveMessage, WebSocketScope, WebSocketSendMessage } from '../../generated/index.js';
import { HeaderMap, MutableHeaderMap, type HeadersInit } from '../http/headers.js';
import type { Receive, Send } from '../protocol.js';
import { WebSocketDisconnect } from './disconnect.js';
import { asBytes, asJson, asText, type JsonMode } from './payload.js';

export type { JsonMode } from './payload.js';

/** Where each side of the connection is: before the handshake, open, or over. */
export type WebSocketSide = 'connecting' | 'connected' | 'disconnected';

export interface AcceptOptions {
  /** One of `subprotocols`, the client's offers; none by default. */
  subprotocol?: string | null;
  /** Extra headers for the handshake response. */
  headers?: HeadersInit;
}

const encoder = new TextEncoder();

export class WebSocket implements AsyncIterable<string | Uint8Array> {
  readonly scope: WebSocketScope;
  /** Whether `websocket.connect` has been received, and whether the client has left. */
  clientState: WebSocketSide = 'connecting';
  /** Whether the app has accepted, and whether it has closed. */
  applicationState: WebSocketSide = 'connecting';
  private readonly receiveMessage: Receive<WebSocketReceiveMessage>;
  private readonly sendMessage: Send<WebSocketSendMessage>;
  private headerMap: HeaderMap | undefined;

  constructor(scope: WebSocketScope, receive: Receive, send: Send) {
    if (scope.type !== 'websocket') throw new TypeError(`WebSocket needs a 'websocket' scope, not '${String((scope as { type: unknown }).type)}'`);
    this.scope = scope;
    this.receiveMessage = receive as Receive<WebSocketReceiveMessage>;
    this.sendMessage = send;
  }

  get path(): string {
    return this.scope.path;
  }

  /** The subprotocols the client offered, in its order of preference. */
  get subprotocols(): readonly string[] {
    return this.scope.subprotocols ?? [];
  }

  /** The handshake request's headers. */
  get headers(): HeaderMap {
    return (this.headerMap ??= new HeaderMap(this.scope.headers));
  }

  /** The next message as ASGI has it; handles the state of both sides. */
  async receive(): Promise<WebSocketReceiveMessage> {
    if (this.clientState === 'disconnected') throw new Error('WebSocket.receive() after the disconnect was received');
    const message = await this.receiveMessage();
    if (message.type === 'websocket.connect') {
      if (this.clientState !== 'connecting') throw new Error("server sent 'websocket.connect' twice");
      this.clientState = 'connected';
    } else if (message.type === 'websocket.disconnect') {
      this.clientState = 'disconnected';
    } else if (this.clientState === 'connecting') {
      throw new Error(`server sent '${message.type}' before 'websocket.connect'`);
    }
    return message;
  }

  /** Any ASGI message to the server; the typed methods below are built on it. */
  async send(message: WebSocketSendMessage): Promise<void> {
    if (this.applicationState === 'disconnected') throw new Error(`cannot send '${message.type}': the app already closed this WebSocket`);
    if (message.type === 'websocket.accept') this.applicationState = 'connected';
    else if (message.type === 'websocket.close') this.applicationState = 'disconnected';
    else if (message.type === 'websocket.http.response.body' && message.more_body !== true) this.applicationState = 'disconnected';
    try {
      await this.sendMessage(message);
    } catch (error) {
      if (error instanceof WebSocketDisconnect) this.applicationState = 'disconnected';
      throw error;
    }
  }

  /** Completes the handshake. Receives `websocket.connect` first if that has not happened. */
  async accept(options: AcceptOptions = {}): Promise<void> {
    if (this.clientState === 'connecting') await this.expectConnect();
    const message: WebSocketSendMessage = { type: 'websocket.accept', subprotocol: options.subprotocol ?? null };
    if (options.headers !== undefined) message.headers = new MutableHeaderMap(options.headers).raw;
    await this.send(message);
  }

  /** Closes the connection; before `accept()` this refuses the handshake (403). */
  async close(code = 1000, reason = ''): Promise<void> {
    if (this.clientState === 'connecting') await this.expectConnect();
    await this.send({ type: 'websocket.close', code, reason });
  }

  private async expectConnect(): Promise<void> {
    const message = await this.receive();
    if (message.type === 'websocket.disconnect') throw new WebSocketDisconnect(message.code ?? 1005, message.reason ?? '');
    if (message.type !== 'websocket.connect') throw new Error(`expected 'websocket.connect', got '${message.type}'`);
  }

  /** The next data message's payload; throws `WebSocketDisconnect` when the client has left. */
  private async receiveData(): Promise<string | Uint8Array> {
    if (this.applicationState !== 'connected') throw new Error('WebSocket is not connected: call accept() first');
    const message = await this.receive();
    if (message.type === 'websocket.disconnect') throw new WebSocketDisconnect(message.code ?? 1005, message.reason ?? '');
    if (message.type !== 'websocket.receive') throw new Error(`expected 'websocket.receive', got '${message.type}'`);
    return message.text ?? message.bytes!;
  }

  async receiveText(): Promise<string> {
    return asText(await this.receiveData());
  }

  async receiveBytes(): Promise<Uint8Array> {
    return asBytes(await this.receiveData());
  }

  /** Parses the next message as JSON: a text message, or (mode `binary`) UTF-8 in a binary one. */
  async receiveJson(mode: JsonMode = 'text'): Promise<unknown> {
    return asJson(await this.receiveData(), mode);
  }

  sendText(data: string): Promise<void> {
    return this.send({ type: 'websocket.send', text: data });
  }

  sendBytes(data: Uint8Array): Promise<void> {
    return this.send({ type: 'websocket.send', bytes: data });
  }

  sendJson(data: unknown, mode: JsonMode = 'text'): Promise<void> {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError('sendJson: the value has no JSON form');
    return mode === 'text' ? this.sendText(text) : this.sendBytes(encoder.encode(text));
  }

  /** Each incoming message's payload (text as a string, binary as bytes) until the client leaves. */
  async *[Symbol.asyncIterator](): AsyncIterator<string | Uint8Array> {
    try {
      for (;;) yield await this.receiveData();
    } catch (error) {
      if (!(error instanceof WebSocketDisconnect)) throw error;
    }
  }

  /** Like iterating the socket, for text messages only. */
  async *iterText(): AsyncGenerator<string> {
    try {
      for (;;) yield await this.receiveText();
    } catch (error) {
      if (!(error instanceof WebSocketDisconnect)) throw error;
    }
  }

  async *iterBytes(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) yield await this.receiveBytes();
    } catch (error) {
      if (!(error instanceof WebSocketDisconnect)) throw error;
    }
  }

  async *iterJson(mode: JsonMode = 'text'): AsyncGenerator<unknown> {
    try {
      for (;;) yield await this.receiveJson(mode);
    } catch (error) {
      if (!(error instanceof WebSocketDisconnect)) throw error;
    }
  }
}
