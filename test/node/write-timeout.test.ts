/**
 * timeouts.write as the cycle arms it, only once a write is held up: a last body stuck in the
 * socket, and a connection that never sends a request, are cut like a stuck streamed body; a fast
 * client on a keep-alive connection is never cut by it.
 */
import { jest } from '@jest/globals';
import { sleep } from '../support/asgi.js';
import { rawConnect, statuses } from '../support/raw.js';
import { closeServers, startServer } from '../support/serving.js';

jest.setTimeout(30_000);
afterEach(closeServers);

const GET = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

test('a whole body sent at once that the client never reads is cut after the write timeout, and the app is done', async () => {
  let returned = false;
  const server = await startServer(async (scope, _receive, send) => {
    const big = scope.type === 'http' && scope.path === '/big';
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: new Uint8Array(big ? 32 * 1024 * 1024 : 10) });
    if (big) returned = true;
  }, { timeouts: { write: 300, keepAlive: 20_000 } });
  const conn = await rawConnect(server.port);
  // A first request on the connection, read in full: the stuck one is not the connection's first.
  conn.write(GET);
  await conn.until(/HTTP\/1\.1 200[^]*\r\n\r\n[^]{10}/, 10_000);
  const before = conn.received().length;
  conn.socket.pause(); // reads nothing: most of the 32 MiB stay queued in the server's socket
  conn.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
  await sleep(1_500);
  // Reading again: what the server had queued is gone with the connection, which ends short.
  conn.socket.resume();
  await conn.whenClosed(15_000);
  expect(conn.received().length - before).toBeLessThan(32 * 1024 * 1024);
  expect(returned).toBe(true);
});

test('a connection that never sends a request is cut after the write timeout', async () => {
  const server = await startServer(async () => {}, { timeouts: { write: 300, headers: 60_000, request: 120_000 } });
  const conn = await rawConnect(server.port);
  const t0 = Date.now();
  await conn.whenClosed(10_000);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
});

test('a client that keeps reading is not cut, however many requests pass on its connection', async () => {
  const server = await startServer(async (_scope, _receive, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: new Uint8Array(256 * 1024) });
  }, { timeouts: { write: 200, keepAlive: 5_000 } });
  const conn = await rawConnect(server.port);
  for (let i = 1; i <= 5; i++) {
    conn.write(GET);
    // Each response is read in full; the pause between requests is longer than the write timeout.
    await conn.until(new RegExp(`(HTTP/1\\.1 200[^]*?){${i}}`), 10_000);
    await sleep(300);
  }
  expect(conn.closed()).toBe(false);
  expect(statuses(conn.received())).toHaveLength(5);
  conn.socket.destroy();
});
