/** serve() for the WebSocket tests: an ephemeral port, signals off, a logger that records, and cleanup. */
import type WebSocket from 'ws';
import type { ASGIApp } from '../../src/index.js';
import { serve, type Logger, type ServeOptions, type ServerHandle } from '../../src/node/index.js';

const handles: ServerHandle[] = [];
const clients: WebSocket[] = [];

export async function startWebSocketServer(app: ASGIApp, options: ServeOptions = {}) {
  const lines: string[] = [];
  const logger: Logger = { error: (m, e) => lines.push(`error: ${m}${e instanceof Error ? ` ${e.message}` : ''}`), warn: (m) => lines.push(`warn: ${m}`), info: () => {} };
  const handle = await serve(app, { port: 0, signals: false, logger, ...options });
  handles.push(handle);
  return { url: handle.url.replace('http:', 'ws:'), port: Number(new URL(handle.url).port), lines, handle };
}

/** A client for `closeWebSocketServers` to terminate. */
export function track(client: WebSocket): WebSocket {
  clients.push(client);
  return client;
}

/** For afterEach: terminates the tracked clients and closes every server (close() is idempotent). */
export async function closeWebSocketServers(): Promise<void> {
  for (const client of clients.splice(0)) client.terminate();
  await Promise.all(handles.splice(0).map((handle) => handle.close()));
}
