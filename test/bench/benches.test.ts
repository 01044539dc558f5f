/**
 * The in-process benchmarks still build and run (with tiny counts): a benchmark that rots is
 * found here, not when someone needs its numbers. Their timings are not asserted.
 */
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
