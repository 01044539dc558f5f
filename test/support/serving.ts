/** serve() in a test: on an ephemeral port, signals off, validation and lifespan off, a logger that records. */
import type { ASGIApp } from '../../src/index.js';
import { serve, type Logger, type ServeOptions, type ServerHandle } from '../../src/node/index.js';

export interface TestServer extends ServerHandle {
  lines: string[];
}

export function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger: Logger = {
    error: (m, e) => lines.push(`error: ${m}${e === undefined ? '' : ` ${String(e)}`}`),
    warn: (m) => lines.push(`warn: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
  };
  return { logger, lines };
}

const open = new Set<ServerHandle>();

export async function startServer(app: ASGIApp, options: ServeOptions = {}): Promise<TestServer> {
  const { logger, lines } = recordingLogger();
  const handle = await serve(app, { port: 0, signals: false, logger, validate: false, lifespan: 'off', gracePeriod: 500, ...options });
  open.add(handle);
  return { ...handle, lines };
}

/** For afterEach: closes every server started since. */
export async function closeServers(): Promise<void> {
  const handles = [...open];
  open.clear();
  await Promise.all(handles.map((h) => h.close()));
}

export const bytes = (text: string) => Buffer.from(text, 'latin1');
