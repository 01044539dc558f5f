/**
 * One tsgi app as a Cloudflare Worker: the module's default export is toFetchHandler's object.
 * test/runtimes/workers.test.ts bundles it and runs it on workerd through miniflare.
 */
import { JSONResponse, PlainTextResponse, toFetchHandler, type ASGIApp } from '../../src/index.js';

const encoder = new TextEncoder();

const app: ASGIApp = async (scope, receive, send) => {
  if (scope.type === 'lifespan') {
    for (;;) {
      const message = await receive();
      if (message.type === 'lifespan.startup') {
        scope.state!['startedBy'] = 'workerd';
        await send({ type: 'lifespan.startup.complete' });
      } else {
        await send({ type: 'lifespan.shutdown.complete' });
        return;
      }
    }
  }
  if (scope.type !== 'http') return;
  switch (scope.path) {
    case '/text':
      return new PlainTextResponse('hello from workerd')(scope, receive, send);
    case '/json':
      return new JSONResponse({ client: scope.client, state: scope.state ?? null, query: new TextDecoder().decode(scope.query_string) })(scope, receive, send);
    case '/stream':
      await send({ type: 'http.response.start', status: 200, headers: [] });
      for (let i = 0; i < 5; i++) {
        await send({ type: 'http.response.body', body: encoder.encode(`chunk ${i}\n`), more_body: true });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return send({ type: 'http.response.body', body: new Uint8Array(0) });
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
    default:
      return new PlainTextResponse('not found', { status: 404 })(scope, receive, send);
  }
};

// Workers say who the client is in a header of their own.
export default toFetchHandler(app, { validate: true, client: (request) => [request.headers.get('cf-connecting-ip') ?? 'unknown', 0] });
