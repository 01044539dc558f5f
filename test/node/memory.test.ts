/**
 * Reading a request body costs memory in proportion to one chunk, not to the body: a 256 MiB
 * upload, read chunk by chunk and discarded by the app, keeps the server process within 64 MiB of
 * its idle RSS. The server runs in a child process so its RSS is its own.
 */
import { jest } from '@jest/globals';
import { request } from 'node:http';
import { runChild, type Child } from '../support/child.js';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
const TOTAL = 256 * MiB;

let child: Child | undefined;
afterEach(async () => {
  if (child && child.process.exitCode === null) {
    // SIGTERM reaches the server through tsx (serve exits on it); SIGKILL would leave it orphaned.
    child.process.kill('SIGTERM');
    const code = await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 10_000, 'running'))]);
    if (code === 'running') child.process.kill('SIGKILL');
    await child.exited;
  }
  child = undefined;
});

/** Streams `total` bytes as a chunked upload, with backpressure, and resolves with the response body. */
function upload(url: string, total: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/upload`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

test.each([['validation off', '0'], ['validation on', '1']])('a 256 MiB upload read and discarded (%s): peak RSS within 64 MiB of idle', async (_what, validate) => {
  child = runChild('test/fixtures/upload-server.ts', { VALIDATE: validate });
  const [, url, idle] = await child.waitFor(/listening (\S+) idle rss (\d+)/);
  expect(await upload(url!, TOTAL)).toBe(String(TOTAL));
  const [, received, chunks, peak] = await child.waitFor(/upload (\d+) bytes in (\d+) chunks, peak rss (\d+)/);
  const growth = Number(peak) - Number(idle);
  console.log(`256 MiB upload (${_what}): ${chunks} chunks, idle ${(Number(idle) / MiB).toFixed(1)} MiB, peak ${(Number(peak) / MiB).toFixed(1)} MiB, growth ${(growth / MiB).toFixed(1)} MiB`);
  expect(Number(received)).toBe(TOTAL);
  expect(growth).toBeLessThan(64 * MiB);
});
