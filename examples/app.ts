/**
 * The demo app: four routes behind one baseHTTPMiddleware (and, in serve, validation).
 *
 *   GET  /             plain text
 *   GET  /json?name=x  JSON
 *   GET  /stream       a streamed response, one line every 100 ms
 *   POST /echo         reads the request body and says what it got
 */
import {
  baseHTTPMiddleware,
  JSONResponse,
  PlainTextResponse,
  Request,
  StreamingResponse,
  type ASGIApp,
} from '../src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function* ticks(count: number) {
  for (let i = 1; i <= count; i++) {
    yield `tick ${i} of ${count}\n`;
    await sleep(100);
  }
}

const routes: ASGIApp = async (scope, receive, send) => {
  if (scope.type === 'lifespan') {
    // No resources to open: answer both lifespan events at once.
    for (;;) {
      const event = await receive();
      if (event.type === 'lifespan.startup') await send({ type: 'lifespan.startup.complete' });
      if (event.type === 'lifespan.shutdown') return send({ type: 'lifespan.shutdown.complete' });
    }
  }
  if (scope.type !== 'http') return;
  const request = new Request(scope, receive);
  let response;
  if (scope.path === '/' && request.method === 'GET') {
    response = new PlainTextResponse('Hello from tsgi!\n');
  } else if (scope.path === '/json' && request.method === 'GET') {
    response = new JSONResponse({ hello: request.query.get('name') ?? 'world', path: scope.path });
  } else if (scope.path === '/stream' && request.method === 'GET') {
    response = new StreamingResponse(ticks(Number(request.query.get('count') ?? 5)), { mediaType: 'text/plain' });
  } else if (scope.path === '/echo' && request.method === 'POST') {
    const body = await request.body();
    response = new JSONResponse({ received: body.length, text: new TextDecoder().decode(body) });
  } else {
    response = new PlainTextResponse('Not Found\n', { status: 404 });
  }
  await response(scope, receive, send);
};

/** Times each request and says so in a header. */
export const app = baseHTTPMiddleware(routes, async (request, callNext) => {
  const started = performance.now();
  const response = await callNext(request);
  response.headers.set('server-timing', `app;dur=${(performance.now() - started).toFixed(2)}`);
  return response;
});
