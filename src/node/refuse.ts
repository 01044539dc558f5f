/**
 * The short plain-text answers the server gives on its own (500, and the limits' 4xx and 503),
 * always with `connection: close`: a request the server refuses leaves the connection in a state
 * it does not want to reason about (an unread body, a client over a limit).
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export const plainResponse = {
  reason(status: number): string {
    return STATUS_CODES[status] ?? 'Error';
  },
  headers(text: string): string[] {
    return ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(text)), 'connection', 'close'];
  },
  body(text: string): Buffer {
    return Buffer.from(text);
  },
};

/** Answers a request without calling the app, and closes the connection after. */
export function refuse(res: ServerResponse, status: number): void {
  const reason = plainResponse.reason(status);
  res.shouldKeepAlive = false;
  res.writeHead(status, plainResponse.headers(reason));
  res.end(reason);
}

/** Answers on a bare socket (no request could be parsed), then closes it. */
export function refuseOnSocket(socket: Socket, status: number): void {
  if (socket.writable) {
    const reason = plainResponse.reason(status);
    socket.write(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(reason)}\r\nconnection: close\r\n\r\n${reason}`);
  }
  socket.destroySoon();
}
