/**
 * node:http's `clientError`: bytes that do not parse as a request, a head too large, a client
 * too slow. Node's own handler answers 400 on the socket whenever the response in flight has not
 * written its head yet, which puts the 400 where that response belongs. Here a response in flight
 * is never touched: the connection is closed after it (and after any pipelined before the bad
 * bytes). Only an idle connection gets the status on the wire.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { connectionOf } from './connection.js';
import type { RequestResponseCycle } from './cycle.js';
import { refuseOnSocket } from './refuse.js';

/** The status for a parse error, as node's codes say: 431 for a head too large, 408 for a timeout, 400 otherwise. */
export function clientErrorStatus(code: string | undefined): number {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    default:
      return 400;
  }
}

/** node:http's own fields on a socket: the response it is writing, and its parser's request. */
type HTTPSocket = Socket & {
  _httpMessage?: (ServerResponse & { _last: boolean }) | null;
  parser?: { incoming?: { complete: boolean } | null } | null;
};

export function onClientError(error: Error & { code?: string }, socket: Socket): void {
  const http = socket as HTTPSocket;
  const status = clientErrorStatus(error.code);
  if (http._httpMessage == null) {
    refuseOnSocket(socket, status);
    return;
  }
  // A response is in flight. If the bad bytes are the body of the last request, that request
  // failed: it answers the status itself, in its turn, or is cut if its answer began.
  const last = connectionOf(socket)?.last as RequestResponseCycle | undefined;
  const incoming = http.parser?.incoming;
  if (last !== undefined && incoming != null && !incoming.complete && last.ownsRequest(incoming)) {
    last.requestFailed(status);
    return;
  }
  // Otherwise the bad bytes came after the last request: it is answered, then the connection closes.
  if (last !== undefined) last.closeConnectionAfter();
  else http._httpMessage._last = true;
}
