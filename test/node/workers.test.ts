/**
 * serve(app, { workers }) as real processes: a worker that dies is replaced while the others keep
 * answering; a crash loop makes the primary stop and exit non-zero, saying why; signals shut the
 * cluster down gracefully, and a second one at once.
 */
import { jest } from '@jest/globals';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild, type Child } from '../support/child.js';
import { sleep, within } from '../support/asgi.js';

jest.setTimeout(90_000);

let child: Child | undefined;
afterEach(async () => {
  // SIGTERM first: tsx passes it on to the primary, which stops its workers; SIGKILL would kill
  // tsx alone and leave the cluster running.
  if (child && child.process.exitCode === null && child.process.signalCode === null) {
    child.process.kill('SIGTERM');
    const gone = await within(20_000, child.exited).then(() => true, () => false);
    if (!gone) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
  }
  child = undefined;
});

/** One request on a fresh connection: the pid that answered, or the error. */
async function servedBy(url: string, path = '/'): Promise<string> {
  const response = await fetch(`${url}${path}`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  return (await response.text()).replace('served by ', '');
}

async function pidsOf(url: string, want: number): Promise<Set<string>> {
  const pids = new Set<string>();
  for (let round = 0; round < 20 && pids.size < want; round++) {
    for (const pid of await Promise.all(Array.from({ length: 6 }, () => servedBy(url)))) pids.add(pid);
  }
  return pids;
}

test('a worker killed mid-run is replaced, and requests keep being answered', async () => {
  child = runChild('test/fixtures/workers-server.ts', { WORKERS: '2' });
  const [, url] = await child.waitFor(/listening (http:\/\/\S+)/, 30_000);
  const before = await pidsOf(url!, 2);
  expect(before.size).toBe(2);
  const [victim] = [...before];
  process.kill(Number(victim), 'SIGKILL');
  // A connection the primary handed to the victim as it died dies with it; once the primary
  // knows, none goes there.
  await child.waitFor(new RegExp(`worker \\d \\(pid ${victim}\\) exited unexpectedly \\(killed by SIGKILL\\); starting a new one`));

  // While the replacement boots, every request is answered.
  const answered: string[] = [];
  for (let i = 0; i < 10; i++) answered.push(await servedBy(url!));
  expect(answered).not.toContain(victim);

  // The replacement joins: a pid neither of the first two.
  const replaced = await within(30_000, (async () => {
    for (;;) {
      const pids = await pidsOf(url!, 2);
      const fresh = [...pids].filter((pid) => !before.has(pid));
      if (fresh.length > 0) return fresh[0]!;
      await sleep(200);
    }
  })(), 'a replacement worker answering');
  expect(before.has(replaced)).toBe(false);

  child.process.kill('SIGTERM');
  expect(await within(20_000, child.exited, 'the primary exiting')).toBe(0);
});

/** One request over a unix socket, on a fresh connection: the pid that answered. */
function servedOverSocket(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/', headers: { connection: 'close' }, timeout: 10_000 }, (response) => {
      let body = '';
      response.setEncoding('latin1');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => (response.statusCode === 200 ? resolve(body.replace('served by ', '')) : reject(new Error(`status ${String(response.statusCode)}`))));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
    req.on('error', reject);
    req.end();
  });
}

test('on a unix socket: every worker answers, also after one is killed and replaced; the url is http+unix:// as serve gives', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-workers-'));
  const socket = join(dir, 'app.sock');
  try {
    child = runChild('test/fixtures/workers-server.ts', { WORKERS: '2', SOCKET: socket });
    const [, url] = await child.waitFor(/listening (\S+)/, 30_000);
    expect(url).toBe(`http+unix://${encodeURIComponent(socket)}`);
    const before = new Set<string>();
    for (let i = 0; i < 40 && before.size < 2; i++) before.add(await servedOverSocket(socket));
    expect(before.size).toBe(2);
    const [victim] = [...before];
    process.kill(Number(victim), 'SIGKILL');
    await child.waitFor(new RegExp(`worker \\d \\(pid ${victim}\\) exited unexpectedly`));
    const replaced = await within(30_000, (async () => {
      for (;;) {
        const pid = await servedOverSocket(socket);
        if (!before.has(pid)) return pid;
        await sleep(100);
      }
    })(), 'a replacement worker answering over the socket');
    expect(replaced).toMatch(/^\d+$/);
    child.process.kill('SIGTERM');
    expect(await within(20_000, child.exited, 'the primary exiting')).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.each([
  ['throws while the app is built', 'startup', /workers keep dying right after they start \(5 in a row, the last before it listened, exit code 1\)/],
  ['exits just after it listens', 'after-start', /workers keep dying right after they start \(5 in a row, the last just after it listened, exit code 3\)/],
])('a worker that %s: the primary stops them all and exits non-zero within 20 s, saying why', async (_what, crash, message) => {
  child = runChild('test/fixtures/workers-server.ts', { WORKERS: '2', CRASH: crash });
  const started = Date.now();
  const code = await within(20_000, child.exited, 'the primary giving up');
  expect(code).not.toBe(0);
  expect(code).not.toBeNull();
  expect(child.output()).toMatch(message);
  console.log(`crash loop (${crash}): the primary exited ${code} after ${Date.now() - started} ms`);
});

test('SIGTERM: the request in flight finishes, the workers stop, the primary exits 0', async () => {
  child = runChild('test/fixtures/workers-server.ts', { WORKERS: '2' });
  const [, url] = await child.waitFor(/listening (http:\/\/\S+)/, 30_000);
  const pending = servedBy(url!, '/slow');
  await sleep(300);
  child.process.kill('SIGTERM');
  expect(await pending).toMatch(/^\d+$/);
  expect(await within(20_000, child.exited, 'the primary exiting')).toBe(0);
  expect(child.output()).toMatch(/SIGTERM: shutting down 2 worker\(s\)/);
});

test('a worker whose lifespan shutdown fails logs it and exits 0, as uvicorn does; so does the primary', async () => {
  child = runChild('test/fixtures/workers-server.ts', { WORKERS: '2', LIFESPAN: 'on' });
  await child.waitFor(/listening (http:\/\/\S+)/, 30_000);
  child.process.kill('SIGTERM');
  expect(await within(20_000, child.exited, 'the primary exiting')).toBe(0);
  expect(child.output().match(/lifespan shutdown failed: cleanup failed in \d+/g)).toHaveLength(2);
  expect(child.output()).not.toMatch(/exited unexpectedly/);
});

test('a second signal exits at once, non-zero', async () => {
  child = runChild('test/fixtures/workers-server.ts', { WORKERS: '2' });
  const [, url] = await child.waitFor(/listening (http:\/\/\S+)/, 30_000);
  const pending = servedBy(url!, '/slow').catch((error: unknown) => error);
  await sleep(300);
  child.process.kill('SIGTERM');
  await child.waitFor(/SIGTERM: shutting down/);
  child.process.kill('SIGTERM');
  const code = await within(5_000, child.exited, 'the primary exiting on the second signal');
  expect(code).not.toBe(0);
  expect(child.output()).toMatch(/SIGTERM again: exiting now/);
  await pending;
});
