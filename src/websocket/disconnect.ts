/**
 * The WebSocket is closed. Thrown by the `WebSocket` helper when `receive()` answers
 * `websocket.disconnect`, and by tsgi's servers and TestClient from a `send()` after the
 * connection closed (ASGI 2.4: the app may catch it and clean up).
 */
export class WebSocketDisconnect extends Error {
  override readonly name = 'WebSocketDisconnect';
  /** The close code: the peer's, 1005 when its close frame had none, 1006 when the connection dropped. */
  readonly code: number;
  readonly reason: string;

  constructor(code = 1000, reason = '') {
    super(`the WebSocket closed with code ${code}${reason === '' ? '' : ` (${reason})`}`);
    this.code = code;
    this.reason = reason;
  }
}
