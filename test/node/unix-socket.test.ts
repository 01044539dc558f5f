/** `path`: serving on a unix domain socket; and `ServerHandle.server`. */
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HTTPScope } from '../../src/index.js';
import { bytes, closeServers, startServer } from '../support/serving.js';

jest.setTimeout(20_000);
afterEach(closeServers);

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'tsgi-uds-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function getOverSocket(socketPath: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ socketPath, path, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject).end();
  });
}

test('a request over a unix socket: scope.server is [path, null], client null; the url says http+unix', async () => {
  const socketPath = join(dir, 'app.sock');
  let seen: HTTPScope | undefined;
  const server = await startServer(async (scope, _receive, send) => {
    seen = scope as HTTPScope;
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: bytes(`hello ${seen.path}`) });
  }, { path: socketPath });
  expect(server.url).toBe(`http+unix://${encodeURIComponent(socketPath)}`);
  expect(server.port).toBe(0);
  expect(await getOverSocket(socketPath, '/x?y=1')).toEqual({ status: 200, body: 'hello /x' });
  expect(seen?.server).toEqual([socketPath, null]);
  expect(seen?.client).toBeNull();
  await server.close();
  expect(existsSync(socketPath)).toBe(false);
});

test('a socket file left behind by a process that is gone does not stop serve', async () => {
  const socketPath = join(dir, 'stale.sock');
  // A process killed while listening leaves its socket file behind.
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  expect(existsSync(socketPath)).toBe(true);
  const second = await startServer(async (_scope, _receive, send) => {
    await send({ type: 'http.response.start', status: 204, headers: [] });
    await send({ type: 'http.response.body' });
  }, { path: socketPath });
  expect((await getOverSocket(socketPath, '/')).status).toBe(204);
  await second.close();
});

test('proxy headers over a unix socket: the peer is local, so trusted', async () => {
  const socketPath = join(dir, 'proxy.sock');
  let seen: HTTPScope | undefined;
  await startServer(async (scope, _receive, send) => {
    seen = scope as HTTPScope;
    await send({ type: 'http.response.start', status: 204, headers: [] });
    await send({ type: 'http.response.body' });
  }, { path: socketPath, proxyHeaders: true });
  await getOverSocket(socketPath, '/', { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' });
  expect(seen?.client).toEqual(['203.0.113.7', 0]);
  expect(seen?.scheme).toBe('https');
});

test('ServerHandle.server is the node:http server, listening', async () => {
  const server = await startServer(async () => {});
  expect(server.server).toBeInstanceOf(Server);
  expect(server.server!.listening).toBe(true);
  expect(server.server!.maxHeadersCount).toBe(101);
});
