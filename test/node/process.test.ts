/** serve() as a real process: the demo, SIGTERM with a request in flight, and workers. */
import { jest } from '@jest/globals';
import { runChild, type Child } from '../support/child.js';

jest.setTimeout(60_000);

let child: Child | undefined;
afterEach(async () => {
  if (child && child.process.exitCode === null) {
    child.process.kill('SIGKILL');
    await child.exited;
  }
  child = undefined;
});

test('the demo started from code (examples/server.ts) serves the four routes and prints its address', async () => {
  child = runChild('examples/server.ts', { PORT: '0' });
  const [, url] = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  const plain = await fetch(`${url}/`);
  expect(await plain.text()).toBe('Hello from tsgi!\n');
  expect(plain.headers.get('server-timing')).toMatch(/^app;dur=/);
  expect(await (await fetch(`${url}/json?name=ada`)).json()).toEqual({ hello: 'ada', path: '/json' });
  expect(await (await fetch(`${url}/stream?count=3`)).text()).toBe('tick 1 of 3\ntick 2 of 3\ntick 3 of 3\n');
  expect(await (await fetch(`${url}/echo`, { method: 'POST', body: 'hello body' })).json()).toEqual({ received: 10, text: 'hello body' });
  expect((await fetch(`${url}/missing`)).status).toBe(404);
  child.process.kill('SIGINT');
  expect(await child.exited).toBe(0);
});

test('SIGTERM: the request in flight finishes, then lifespan shutdown, then the process exits', async () => {
  child = runChild('test/fixtures/graceful-server.ts');
  const [, url] = await child.waitFor(/listening (http:\/\/\S+)/);
  const pending = fetch(`${url}/slow`).then((r) => r.text());
  await child.waitFor(/request started/);
  child.process.kill('SIGTERM');
  expect(await pending).toMatch(/^served by \d+$/);
  expect(await child.exited).toBe(0);
  expect(child.output()).toMatch(/SIGTERM: shutting down[\s\S]*lifespan shutdown/);
});

test('workers: 2 processes share the port', async () => {
  child = runChild('test/fixtures/graceful-server.ts', { WORKERS: '2' });
  const [, url] = await child.waitFor(/listening (http:\/\/\S+)/);
  const pids = new Set<string>();
  for (let round = 0; round < 4 && pids.size < 2; round++) {
    const bodies = await Promise.all(Array.from({ length: 6 }, () => fetch(`${url}/`, { headers: { connection: 'close' } }).then((r) => r.text())));
    for (const body of bodies) pids.add(body.replace('served by ', ''));
  }
  expect(pids.size).toBe(2);
  child.process.kill('SIGTERM');
  expect(await child.exited).toBe(0);
});
