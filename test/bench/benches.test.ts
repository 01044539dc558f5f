/**
 * The in-process benchmarks still build and run (with tiny counts): a benchmark that rots is
 * found here, not when someone needs its numbers. Their timings are not asserted.
 */
import { pathToFileURL } from 'node:url';
import { repoRoot, run } from '../support/run.js';

// Its own output folder: the packaging test rebuilds dist/ at the same time.
const out = 'build/bench-smoke';

beforeAll(() => {
  const build = run(`${repoRoot}node_modules/.bin/tsc`, ['-p', 'tsconfig.bench.json', '--outDir', out], repoRoot, 120_000);
  expect(build.stdout + build.stderr).toBe('');
}, 120_000);

test.each([
  ['guards', /slowest generated guard: .* at \d+\.\d+x hand-written/],
  ['validate', /added by validation: -?\d+ ns per exchange/],
  ['middleware', /sets a header: +baseHTTPMiddleware \d+\.\d+x[\s\S]*ten stacked: +baseHTTPMiddleware \d+\.\d+x[\s\S]*reads the body: +baseHTTPMiddleware \d+\.\d+x/],
])('bench/%s runs', (name, summary) => {
  const result = run(process.execPath, [`${out}/bench/${name}/index.js`], repoRoot, 120_000, { BENCH_N: '2000', BENCH_STREAMS: '1' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(summary);
}, 120_000);

test('a load benchmark server reports its own CPU time, and the runner stops it promptly', async () => {
  // The load runner as compiled, against one of bench/http's servers (no autocannon here).
  const { start } = (await import(pathToFileURL(`${repoRoot}${out}/bench/load.js`).href)) as typeof import('../../bench/load.js');
  const server = await start({ name: 'tsgi serve + 1 baseHTTPMiddleware', command: process.execPath, args: [`${repoRoot}${out}/bench/http/servers.js`], env: { VARIANT: 'tsgi-base1' } });
  try {
    const before = await server.cpu();
    for (let i = 0; i < 50; i++) expect(await (await fetch(`${server.url}/`)).text()).toBe('Hello, world!');
    const after = await server.cpu();
    expect(before).toBeGreaterThan(0);
    // Fifty requests cost the server some CPU time, and far less than the whole test's bound.
    expect(after).toBeGreaterThan(before);
    expect(after - before).toBeLessThan(30_000_000);
  } finally {
    const stopped = Date.now();
    await server.stop();
    // Without its stdin closed, a server would linger until the runner's SIGKILL, 5 s later.
    expect(Date.now() - stopped).toBeLessThan(4000);
  }
}, 60_000);
