/**
 * What every bench/fetch server answers: GET / with a 13-byte text body, as a tsgi app, as a Hono
 * app and as a bare fetch handler. CPU per request comes from the shared runner (bench/load.ts),
 * which asks each server process for its CPU time over stdin.
 */
import { Hono } from 'hono';
import type { ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent } from '../../src/index.js';

const HELLO = new TextEncoder().encode('Hello, world!');
const start: HTTPResponseStartEvent = { type: 'http.response.start', status: 200, headers: [[new TextEncoder().encode('content-type'), new TextEncoder().encode('text/plain; charset=utf-8')]] };
const body: HTTPResponseBodyEvent = { type: 'http.response.body', body: HELLO };

export const app: ASGIApp = async (scope, _receive, send) => {
  if (scope.type !== 'http') return;
  await send(start);
  await send(body);
};

export const hono = new Hono();
hono.get('/', (c) => c.text('Hello, world!'));

/** The bare fetch handler, for the runtimes' own baselines. */
export function bareFetch(request: Request): Response {
  return new Response(HELLO, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
