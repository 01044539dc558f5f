/** Single-process shutdown when serve owns the signals, in child processes. */
import { jest } from '@jest/globals';
import { runChild, type Child } from '../support/child.js';
import { sleep } from '../support/asgi.js';

jest.setTimeout(60_000);

let child: Child | undefined;
afterEach(async () => {
  if (child && child.process.exitCode === null) {
    child.process.kill('SIGKILL');
    await child.exited;
  }
  child = undefined;
});

test('SIGTERM with a request in flight: it finishes, and the process exits 0 though the app left a timer running', async () => {
  child = runChild('test/fixtures/shutdown-server.ts');
  const [, url] = await child.waitFor(/listening (http:\/\/\S+)/);
  const pending = fetch(`${url}/slow`).then((r) => r.text());
  await child.waitFor(/request started \/slow/);
  child.process.kill('SIGTERM');
  expect(await pending).toBe('finished');
  const code = await Promise.race([child.exited, sleep(10_000).then(() => 'still running')]);
  expect(code).toBe(0);
  expect(child.output()).toMatch(/SIGTERM: shutting down[\s\S]*lifespan shutdown/);
});

test('a second signal exits at once, with a non-zero code', async () => {
  child = runChild('test/fixtures/shutdown-server.ts', { DEAF_MS: '30000', GRACE_MS: '30000' });
  const [, url] = await child.waitFor(/listening (http:\/\/\S+)/);
  void fetch(`${url}/deaf`).catch(() => {});
  await child.waitFor(/request started \/deaf/);
  child.process.kill('SIGINT');
  await child.waitFor(/SIGINT: shutting down/);
  const t0 = Date.now();
  child.process.kill('SIGINT');
  const code = await Promise.race([child.exited, sleep(5_000).then(() => 'still running')]);
  expect(code).not.toBe(0);
  expect(code).not.toBe('still running');
  expect(Date.now() - t0).toBeLessThan(5000);
  expect(child.output()).not.toMatch(/lifespan shutdown/);
});

test('lifespan shutdown waits for an app still running past the grace period', async () => {
  child = runChild('test/fixtures/shutdown-server.ts', { DEAF_MS: '1200', GRACE_MS: '200' });
  const [, url] = await child.waitFor(/listening (http:\/\/\S+)/);
  void fetch(`${url}/deaf`).catch(() => {});
  await child.waitFor(/request started \/deaf/);
  child.process.kill('SIGTERM');
  expect(await Promise.race([child.exited, sleep(15_000).then(() => 'still running')])).toBe(0);
  const output = child.output();
  expect(output).toMatch(/deaf app returned[\s\S]*lifespan shutdown/);
});

test('an app that never returns holds lifespan shutdown only for a short bound, and is named in the log', async () => {
  child = runChild('test/fixtures/shutdown-server.ts', { DEAF_MS: '60000', GRACE_MS: '200' });
  const [, url] = await child.waitFor(/listening (http:\/\/\S+)/);
  void fetch(`${url}/deaf`).catch(() => {});
  await child.waitFor(/request started \/deaf/);
  const t0 = Date.now();
  child.process.kill('SIGTERM');
  expect(await Promise.race([child.exited, sleep(15_000).then(() => 'still running')])).toBe(0);
  expect(Date.now() - t0).toBeLessThan(8000);
  expect(child.output()).toMatch(/still running: "GET \/deaf HTTP\/1\.1"[\s\S]*lifespan shutdown/);
  expect(child.output()).not.toMatch(/deaf app returned/);
});
