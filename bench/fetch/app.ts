/**
 * What every bench/fetch server answers: GET / with a 13-byte text body, as a tsgi app and as a
 * Hono app. `GET /__cpu` answers the process's CPU time and request count so far (not counted),
 * for CPU per request.
 */
import { Hono } from 'hono';
import type { ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent } from '../../src/index.js';

const HELLO = new TextEncoder().encode('Hello, world!');
const start: HTTPResponseStartEvent = { type: 'http.response.start', status: 200, headers: [[new TextEncoder().encode('content-type'), new TextEncoder().encode('text/plain; charset=utf-8')]] };
const body: HTTPResponseBodyEvent = { type: 'http.response.body', body: HELLO };

let requests = 0;
const cpuUsage = (globalThis as unknown as { process: { cpuUsage(): { user: number; system: number } } }).process.cpuUsage;

/** The CPU report, as JSON text: microseconds of user and system time, and requests served. */
export function cpuReport(): string {
  const { user, system } = cpuUsage();
  return JSON.stringify({ user, system, requests });
}

export const CPU_PATH = '/__cpu';

export const app: ASGIApp = async (scope, _receive, send) => {
  if (scope.type !== 'http') return;
  if (scope.path === CPU_PATH) {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: new TextEncoder().encode(cpuReport()) });
    return;
  }
  requests += 1;
  await send(start);
  await send(body);
};

export const hono = new Hono();
hono.get(CPU_PATH, (c) => c.text(cpuReport()));
hono.get('/', (c) => {
  requests += 1;
  return c.text('Hello, world!');
});

/** The bare fetch handler, for the runtimes' own baselines. */
export function bareFetch(request: Request): Response {
  if (request.url.endsWith(CPU_PATH)) return new Response(cpuReport());
  requests += 1;
  return new Response(HELLO, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
