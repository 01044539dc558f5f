/**
 * close() lets responses in flight finish within the grace period, including the bytes of one
 * whose app has already returned but whose client has not yet read them all.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'node:http';
import { closeServers, startServer } from '../support/serving.js';

afterEach(closeServers);

const SIZE = 32 * 1024 * 1024;

/** GET `url`, reading slowly at first; resolves with the bytes received, or rejects if the connection was cut. */
function slowGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        // Let the server's socket fill while close() is under way.
        if (received < 4 * 1024 * 1024) {
          res.pause();
          setTimeout(() => res.resume(), 5);
        }
      });
      res.on('end', () => resolve(received));
      res.on('aborted', () => reject(new Error(`cut after ${received} bytes`)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('a response still being written when close() is called arrives whole', async () => {
  const server = await startServer(async (scope, _receive, send) => {
    if (scope.type !== 'http') return;
    await sleep(200);
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: Buffer.alloc(SIZE, 0x61) });
  }, { gracePeriod: 10_000 });
  const got = slowGet(`${server.url}/`);
  await sleep(100);
  const closed = server.close();
  expect(await got).toBe(SIZE);
  await closed;
}, 20_000);

test('a client that never reads is cut when the grace period ends, and close() still returns', async () => {
  const server = await startServer(async (scope, _receive, send) => {
    if (scope.type !== 'http') return;
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: Buffer.alloc(SIZE, 0x61) });
  }, { gracePeriod: 300 });
  const { connect } = await import('node:net');
  const socket = connect(server.port, '127.0.0.1');
  socket.pause(); // reads nothing
  socket.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
  await sleep(200);
  const started = Date.now();
  await server.close();
  expect(Date.now() - started).toBeLessThan(5_000);
  socket.destroy();
}, 20_000);
