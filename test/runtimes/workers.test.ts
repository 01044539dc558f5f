/**
 * The tsgi app of test/runtimes/worker.ts as a Cloudflare Worker, on workerd (from the
 * `workerd` npm package, through miniflare), over a real socket on 127.0.0.1 with node's fetch.
 * Skipped, with the reason printed, where workerd cannot run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { sleep } from '../support/asgi.js';
import { repoRoot } from '../support/run.js';

function unavailable(): string | null {
  const probe = spawnSync(join(repoRoot, 'node_modules', '.bin', 'workerd'), ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.error) return probe.error.message;
  if (probe.status !== 0) return `workerd --version exited ${probe.status}: ${(probe.stderr || probe.stdout).trim().slice(0, 300)}`;
  return null;
}

const reason = unavailable();
if (reason !== null) console.warn(`SKIPPED: tsgi on Cloudflare Workers, because workerd cannot run here (${reason})`);
const suite = reason === null ? describe : describe.skip;

suite('toFetchHandler as a Cloudflare Worker on workerd', () => {
  let mf: Miniflare;
  let url: URL;
  let dir: string;

  beforeAll(async () => {
    mkdirSync(join(repoRoot, 'build'), { recursive: true });
    dir = mkdtempSync(join(repoRoot, 'build', 'worker-'));
    const scriptPath = join(dir, 'worker.mjs');
    await build({ entryPoints: [join(repoRoot, 'test', 'runtimes', 'worker.ts')], bundle: true, format: 'esm', platform: 'neutral', outfile: scriptPath, logLevel: 'silent' });
    mf = new Miniflare({ modules: true, scriptPath, compatibilityDate: '2024-09-23', host: '127.0.0.1', port: 0 });
    url = await mf.ready;
  }, 120_000);

  afterAll(async () => {
    await mf?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('text', async () => {
    const response = await fetch(new URL('/text', url));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello from workerd');
  });

  test('JSON: lifespan started lazily on the first request, the client from CF-Connecting-IP', async () => {
    const response = await fetch(new URL('/json?x=1', url), { headers: { 'cf-connecting-ip': '203.0.113.5' } });
    const body = (await response.json()) as { client: [string, number]; state: unknown; query: string };
    expect(body.state).toEqual({ startedBy: 'workerd' });
    expect(body.query).toBe('x=1');
    expect(body.client[0]).toMatch(/^(203\.0\.113\.5|127\.0\.0\.1)$/);
  });

  test('a streamed response arrives in pieces', async () => {
    const response = await fetch(new URL('/stream', url));
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toMatch(/^chunk 0\n/);
    let all = new TextDecoder().decode(first.value);
    for (let step = await reader.read(); !step.done; step = await reader.read()) all += new TextDecoder().decode(step.value);
    expect(all).toBe('chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
  });

  test('a streamed upload', async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 8) return controller.close();
        sent += 1;
        await sleep(5);
        controller.enqueue(new Uint8Array(64 * 1024).fill(sent));
      },
    });
    const response = await fetch(new URL('/upload', url), { method: 'POST', body, duplex: 'half' } as RequestInit);
    const result = (await response.json()) as { total: number; chunks: number };
    expect(result.total).toBe(8 * 64 * 1024);
    expect(result.chunks).toBeGreaterThan(1);
  });
});
