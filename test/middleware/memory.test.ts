/**
 * 256 MiB streamed through a middleware whose dispatch passes the response on: the memory held
 * must not grow with the size. The producer allocates a fresh chunk every time, so a middleware
 * that buffered ahead would hold hundreds of MiB.
 */
import { baseHTTPMiddleware, type ASGIApp, type Scope } from '../../src/index.js';
import { fakeServer, within } from '../support/asgi.js';
import { liveBytes } from '../support/gc.js';
import { httpScope } from '../support/messages.js';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const TOTAL = 256 * MiB;

test('256 MiB through baseHTTPMiddleware in bounded memory', async () => {
  const endpoint: ASGIApp = async (_s, _r, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    for (let sent = CHUNK; sent <= TOTAL; sent += CHUNK) {
      await send({ type: 'http.response.body', body: new Uint8Array(CHUNK).fill(sent % 251), more_body: sent < TOTAL });
    }
  };
  const app = baseHTTPMiddleware(endpoint, async (request, callNext) => {
    const response = await callNext(request);
    response.headers.set('x-through', 'middleware');
    return response;
  });

  const server = fakeServer();
  let received = 0;
  let chunks = 0;
  const samples: number[] = [];
  const baseline = await liveBytes();
  server.send = async (message) => {
    if (message.type !== 'http.response.body') return;
    received += message.body?.length ?? 0;
    chunks += 1;
    if (chunks % 256 === 0) samples.push((await liveBytes()) - baseline);
  };
  await within(60_000, app(httpScope() as Scope, server.receive, server.send), 'streaming 256 MiB');

  expect(received).toBe(TOTAL);
  expect(samples.length).toBe(TOTAL / CHUNK / 256);
  const peak = Math.max(...samples);
  console.log(`256 MiB through baseHTTPMiddleware: peak live growth ${(peak / 1024).toFixed(0)} KiB over ${samples.length} samples`);
  // A few chunks in flight at most; buffering would show as tens or hundreds of MiB.
  expect(peak).toBeLessThan(4 * MiB);
}, 90_000);
