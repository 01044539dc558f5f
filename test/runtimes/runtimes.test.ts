/**
 * The same tsgi app (test/runtimes/server.ts) through toFetchHandler on `Bun.serve` and on
 * `Deno.serve`, each runtime from its npm package (devDependencies), over a real socket with
 * node's fetch. A runtime whose binary cannot run here is skipped, and the reason is printed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { sleep, within } from '../support/asgi.js';
import { repoRoot } from '../support/run.js';

interface Runtime {
  name: 'bun' | 'deno';
  args: string[];
}

const script = join(repoRoot, 'test', 'runtimes', 'server.ts');
const runtimes: Runtime[] = [
  { name: 'bun', args: [script] },
  // --sloppy-imports: the sources import './x.js' for Node; Deno then finds './x.ts'.
  { name: 'deno', args: ['run', '--quiet', '--sloppy-imports', '--allow-net=127.0.0.1', '--allow-env', '--allow-read', script] },
];
const env = { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };

function unavailable(name: string): string | null {
  const binary = join(repoRoot, 'node_modules', '.bin', name);
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 60_000, env });
  if (probe.error) return `${name}: ${probe.error.message}`;
  if (probe.status !== 0) return `${name} --version exited ${probe.status}: ${(probe.stderr || probe.stdout).trim().slice(0, 300)}`;
  return null;
}

for (const runtime of runtimes) {
  const reason = unavailable(runtime.name);
  if (reason !== null) console.warn(`SKIPPED: tsgi on ${runtime.name}, because the binary cannot run here (${reason})`);
  const suite = reason === null ? describe : describe.skip;

  suite(`toFetchHandler on ${runtime.name}`, () => {
    let child: ChildProcess;
    let output = '';
    let url = '';

    beforeAll(async () => {
      child = spawn(join(repoRoot, 'node_modules', '.bin', runtime.name), runtime.args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      const port = await within(60_000, (async () => {
        for (;;) {
          const match = /listening on (\d+)/.exec(output);
          if (match) return match[1];
          if (child.exitCode !== null) throw new Error(`${runtime.name} exited ${child.exitCode}:\n${output}`);
          await sleep(20);
        }
      })(), `${runtime.name} listening`);
      url = `http://127.0.0.1:${port}`;
    }, 70_000);

    afterAll(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    test('text', async () => {
      const response = await fetch(`${url}/text`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await response.text()).toBe(`hello from ${runtime.name}`);
    });

    test('JSON, with the client address and the lifespan state', async () => {
      const response = await fetch(`${url}/json?name=ada`);
      const body = (await response.json()) as { runtime: string; name: string; client: [string, number]; state: { startedBy: string } };
      expect(body.runtime).toBe(runtime.name);
      expect(body.name).toBe('ada');
      expect(body.client[0]).toMatch(/127\.0\.0\.1/);
      expect(body.client[1]).toBeGreaterThan(0);
      expect(body.state).toEqual({ startedBy: runtime.name });
    });

    test('a streamed response arrives in pieces', async () => {
      const response = await fetch(`${url}/stream`);
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toMatch(/^chunk 0\n/);
      let rest = new TextDecoder().decode(first.value);
      for (let step = await reader.read(); !step.done; step = await reader.read()) rest += new TextDecoder().decode(step.value);
      expect(rest).toBe('chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
    });

    test('a streamed upload reaches the app as it is sent', async () => {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent === 8) return controller.close();
          sent += 1;
          await sleep(5);
          controller.enqueue(new Uint8Array(64 * 1024).fill(sent));
        },
      });
      const response = await fetch(`${url}/upload`, { method: 'POST', body, duplex: 'half' } as RequestInit);
      const result = (await response.json()) as { total: number; chunks: number };
      expect(result.total).toBe(8 * 64 * 1024);
      expect(result.chunks).toBeGreaterThan(1);
    });

    test('the client leaving is http.disconnect to the app', async () => {
      const abort = new AbortController();
      const response = await fetch(`${url}/wait?id=one`, { signal: abort.signal });
      await response.body!.getReader().read();
      abort.abort();
      const seen = await within(15_000, (async () => {
        for (;;) {
          const list = (await (await fetch(`${url}/disconnects`)).json()) as string[];
          if (list.length > 0) return list;
          await sleep(50);
        }
      })(), `${runtime.name} telling the app the client left`);
      expect(seen).toEqual(['one:http.disconnect']);
    }, 20_000);

    test('lifespan shutdown on SIGTERM', async () => {
      child.kill('SIGTERM');
      await within(15_000, (async () => { while (!output.includes('lifespan shutdown complete')) await sleep(20); })(), `${runtime.name} shutting down`);
      await within(15_000, new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve))));
    }, 20_000);
  });
}
