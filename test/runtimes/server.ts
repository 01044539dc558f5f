/**
 * One tsgi app served through toFetchHandler by the runtime that runs this file: `Bun.serve`
 * under Bun, `Deno.serve` under Deno. test/runtimes/runtimes.test.ts starts it as a child
 * process and talks to it over a socket. Prints `listening on <port>` once ready, and
 * `lifespan shutdown complete` after SIGTERM.
 */
import { JSONResponse, PlainTextResponse, toFetchHandler, type ASGIApp, type HTTPScope } from '../../src/index.js';

declare const Bun: { serve(options: { port: number; hostname: string; fetch: (request: Request, server: unknown) => Promise<Response> }): { port: number } } | undefined;
declare const Deno: {
  serve(options: { port: number; hostname: string; onListen(address: { port: number }): void }, handler: (request: Request, info: unknown) => Promise<Response>): unknown;
  addSignalListener(signal: 'SIGTERM', listener: () => void): void;
  exit(code: number): never;
} | undefined;

const runtime = typeof Bun !== 'undefined' ? 'bun' : typeof Deno !== 'undefined' ? 'deno' : 'unknown';
const encoder = new TextEncoder();
const disconnects: string[] = [];

const routes = async (scope: HTTPScope, receive: Parameters<ASGIApp>[1], send: Parameters<ASGIApp>[2]): Promise<void> => {
  const query = new URLSearchParams(new TextDecoder().decode(scope.query_string));
  switch (scope.path) {
    case '/text':
      return new PlainTextResponse(`hello from ${runtime}`)(scope, receive, send);
    case '/json':
      return new JSONResponse({ runtime, name: query.get('name'), client: scope.client, state: scope.state ?? null })(scope, receive, send);
    case '/stream': {
      await send({ type: 'http.response.start', status: 200, headers: [[encoder.encode('content-type'), encoder.encode('text/plain')]] });
      for (let i = 0; i < 5; i++) {
        await send({ type: 'http.response.body', body: encoder.encode(`chunk ${i}\n`), more_body: true });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return send({ type: 'http.response.body', body: new Uint8Array(0) });
    }
    case '/upload': {
      let total = 0;
      let chunks = 0;
      for (;;) {
        const message = await receive();
        if (message.type !== 'http.request') return;
        total += message.body?.length ?? 0;
        chunks += 1;
        if (message.more_body !== true) break;
      }
      return new JSONResponse({ total, chunks })(scope, receive, send);
    }
    case '/wait': {
      // Streams a first line, then waits for the client to leave.
      await receive();
      await send({ type: 'http.response.start', status: 200, headers: [] });
      await send({ type: 'http.response.body', body: encoder.encode('waiting\n'), more_body: true });
      const message = await receive();
      disconnects.push(`${query.get('id')}:${message.type}`);
      return;
    }
    case '/disconnects':
      return new JSONResponse(disconnects)(scope, receive, send);
    default:
      return new PlainTextResponse('not found', { status: 404 })(scope, receive, send);
  }
};

const app: ASGIApp = async (scope, receive, send) => {
  if (scope.type === 'lifespan') {
    for (;;) {
      const message = await receive();
      if (message.type === 'lifespan.startup') {
        scope.state!['startedBy'] = runtime;
        await send({ type: 'lifespan.startup.complete' });
      } else if (message.type === 'lifespan.shutdown') {
        console.log('lifespan shutdown complete');
        await send({ type: 'lifespan.shutdown.complete' });
        return;
      }
    }
  }
  if (scope.type === 'http') await routes(scope, receive, send);
};

const handler = toFetchHandler(app, { validate: true });
await handler.startup();

async function stop(): Promise<void> {
  await handler.shutdown();
  if (typeof Deno !== 'undefined') Deno.exit(0);
  else (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(0);
}

if (typeof Bun !== 'undefined') {
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: handler.fetch });
  (globalThis as unknown as { process: { on(signal: string, listener: () => void): void } }).process.on('SIGTERM', () => void stop());
  console.log(`listening on ${server.port}`);
} else if (typeof Deno !== 'undefined') {
  Deno.addSignalListener('SIGTERM', () => void stop());
  Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: ({ port }) => console.log(`listening on ${port}`) }, handler.fetch);
} else {
  throw new Error('run this file with bun or deno');
}
