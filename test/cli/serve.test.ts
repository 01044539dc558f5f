/**
 * The `tsgi` command, spawned as `npm start` runs it: it serves, its flags reach the server,
 * `--help` lists every flag, mistakes are one line and exit code 2, `--reload` restarts.
 */
import { jest } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServeLimits, ServeOptions, ServeTimeouts } from '../../src/node/index.js';
import { parseServeArgs, UsageError } from '../../src/cli/flags.js';
import { repoRoot } from '../support/run.js';
import { within } from '../support/asgi.js';
import { runCli, startCli, stopCli, type Cli } from './spawn-cli.js';

jest.setTimeout(90_000);

let cli: Cli | undefined;
afterEach(async () => {
  await stopCli(cli);
  cli = undefined;
});

const LISTENING = /tsgi: listening on (http:\/\/127\.0\.0\.1:\d+)/;

async function getJson(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

test('npm start runs the command on the demo app, which serves its routes; SIGINT exits 0', async () => {
  const start = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start;
  expect(start).toBe('tsx src/cli/main.ts serve examples/app.ts');
  cli = startCli(['serve', 'examples/app.ts', '--port', '0']);
  const [, url] = await cli.waitFor(LISTENING);
  const plain = await fetch(`${url}/`);
  expect(await plain.text()).toBe('Hello from tsgi!\n');
  expect(await (await fetch(`${url}/echo`, { method: 'POST', body: 'hello body' })).json()).toEqual({ received: 10, text: 'hello body' });
  cli.process.kill('SIGINT');
  expect(await within(20_000, cli.exited, 'the command exiting')).toBe(0);
});

test('path:exportName picks the export; without one, app and then the default export', async () => {
  cli = startCli(['serve', 'test/fixtures/cli-apps.ts:other', '--port', '0']);
  let [, url] = await cli.waitFor(LISTENING);
  expect((await getJson(`${url}/`)).which).toBe('other');
  await stopCli(cli);

  cli = startCli(['serve', 'test/fixtures/cli-apps.ts', '--port', '0']);
  [, url] = await cli.waitFor(LISTENING);
  expect((await getJson(`${url}/`)).which).toBe('app');
  await stopCli(cli);

  cli = startCli(['serve', 'test/fixtures/cli-default-app.ts', '--port', '0']);
  [, url] = await cli.waitFor(LISTENING);
  expect(await (await fetch(`${url}/`)).text()).toBe('the default export');
});

test('flags reach the server: --root-path in the scope, --workers as processes', async () => {
  cli = startCli(['serve', 'test/fixtures/cli-apps.ts', '--port', '0', '--root-path', '/mounted', '--workers', '2', '--no-validate']);
  const [, url] = await cli.waitFor(/tsgi: listening on (http:\/\/127\.0\.0\.1:\d+) \(2 workers\)/);
  const pids = new Set<unknown>();
  for (let i = 0; i < 30 && pids.size < 2; i++) {
    const body = await getJson(`${url}/`);
    expect(body.root_path).toBe('/mounted');
    pids.add(body.pid);
  }
  expect(pids.size).toBe(2);
  cli.process.kill('SIGTERM');
  expect(await within(20_000, cli.exited, 'the command exiting')).toBe(0);
});

// Every ServeOptions field a command line can carry, and its flag: adding a field without a flag
// fails the type check here (logger is an object; the command always owns its signals).
const flagFor: Record<Exclude<keyof ServeOptions, 'logger' | 'signals' | 'limits' | 'timeouts'>, string> = {
  host: '--host', port: '--port', validate: '--no-validate', lifespan: '--lifespan', rootPath: '--root-path',
  gracePeriod: '--grace-period', workers: '--workers', path: '--uds', proxyHeaders: '--proxy-headers',
  forwardedAllowIps: '--forwarded-allow-ips',
};
const limitFlags: Record<keyof ServeLimits, string> = {
  maxBodySize: '--max-body-size', maxHeaders: '--max-headers', maxHeaderSize: '--max-header-size', maxConcurrency: '--max-concurrency',
  maxWebSocketMessage: '--max-websocket-message',
};
const timeoutFlags: Record<keyof ServeTimeouts, string> = {
  headers: '--timeout-headers', request: '--timeout-request', keepAlive: '--timeout-keep-alive', write: '--timeout-write', webSocketPing: '--timeout-websocket-ping',
};

test('--timeout-websocket-ping 0 turns pings off, as --help says; the other timeouts still take 1 at least', () => {
  expect(parseServeArgs(['app.ts', '--timeout-websocket-ping', '0']).options.timeouts).toEqual({ webSocketPing: 0 });
  expect(() => parseServeArgs(['app.ts', '--timeout-keep-alive', '0'])).toThrow(UsageError);
});

test('--help lists every flag, each option with its default', () => {
  const { status, stdout } = runCli(['serve', '--help']);
  expect(status).toBe(0);
  expect(stdout).toMatch(/^usage: tsgi serve MODULE\[:EXPORT\] \[flags\]/);
  for (const flag of [...Object.values(flagFor), ...Object.values(limitFlags), ...Object.values(timeoutFlags), '--validate', '--reload']) {
    expect(stdout).toMatch(new RegExp(`^  ${flag}\\b`, 'm'));
  }
  const line = (flag: string) => stdout.split('\n').find((l) => l.startsWith(`  ${flag} `)) ?? '';
  expect(line('--port')).toContain('(default: 8000)');
  expect(line('--host')).toContain('(default: 127.0.0.1)');
  expect(line('--max-headers')).toContain('(default: 100)');
  expect(line('--max-header-size')).toContain('(default: 16k)');
  expect(line('--timeout-keep-alive')).toContain('(default: 5000)');
  expect(line('--forwarded-allow-ips')).toContain('(default: 127.0.0.1)');
});

test.each([
  ['a module that does not exist', ['serve', 'test/fixtures/no-such-app.ts'], /^tsgi: cannot find the app module test\/fixtures\/no-such-app\.ts \(no file .*no-such-app\.ts\)$/],
  ['an export that does not exist', ['serve', 'test/fixtures/cli-apps.ts:missing'], /^tsgi: test\/fixtures\/cli-apps\.ts has no export 'missing' \(its exports: app, notAnApp, other\)$/],
  ['an export that is no app', ['serve', 'test/fixtures/cli-apps.ts:notAnApp'], /^tsgi: test\/fixtures\/cli-apps\.ts's export 'notAnApp' is not an ASGI app \(a function\); it is number$/],
  ['a port that is no number', ['serve', 'examples/app.ts', '--port', 'eighty'], /^tsgi: --port takes a whole number from 0 to 65535 \(got 'eighty'\)$/],
  ['a bad lifespan mode', ['serve', 'examples/app.ts', '--lifespan', 'maybe'], /^tsgi: --lifespan is one of auto, on, off \(got 'maybe'\)$/],
  ['a bad size', ['serve', 'examples/app.ts', '--max-body-size', '10x'], /^tsgi: --max-body-size takes a size in bytes, optionally with k, m or g \(got '10x'\)$/],
  ['an unknown flag', ['serve', 'examples/app.ts', '--bogus'], /^tsgi: Unknown option '--bogus'\. usage: tsgi serve/],
  ['no module', ['serve'], /^tsgi: which app\? give a module, like tsgi serve app\.ts$/],
  ['--reload with workers', ['serve', 'examples/app.ts', '--reload', '--workers', '2'], /^tsgi: --reload runs one process; it cannot be combined with --workers$/],
])('%s: one line on stderr, exit code 2', (_what, args, message) => {
  const { status, stderr, stdout } = runCli(args);
  expect(status).toBe(2);
  expect(stdout).toBe('');
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr.trimEnd()).toMatch(message);
});

test('a server that cannot start (port taken) is one line and exit code 1', async () => {
  cli = startCli(['serve', 'test/fixtures/cli-apps.ts', '--port', '0']);
  const [, url] = await cli.waitFor(LISTENING);
  const port = new URL(url!).port;
  const { status, stderr } = runCli(['serve', 'test/fixtures/cli-apps.ts', '--port', port]);
  expect(status).toBe(1);
  expect(stderr.trimEnd()).toMatch(/^tsgi: listen EADDRINUSE: address already in use 127\.0\.0\.1:\d+$/);
});

test('--reload restarts the server when the app module changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-reload-'));
  const file = join(dir, 'app.ts');
  const version = (text: string) => writeFileSync(file, [
    `const text: string = '${text}';`,
    'export const app = async (scope: { type: string }, _receive: unknown, send: (m: object) => Promise<void>) => {',
    "  if (scope.type !== 'http') return;",
    "  await send({ type: 'http.response.start', status: 200, headers: [] });",
    "  await send({ type: 'http.response.body', body: new TextEncoder().encode(text) });",
    '};',
  ].join('\n'));
  try {
    version('first');
    cli = startCli(['serve', file, '--reload', '--port', '0', '--lifespan', 'off']);
    const [, first] = await cli.waitFor(LISTENING);
    expect(await (await fetch(first!)).text()).toBe('first');
    version('second');
    const [, second] = await cli.waitFor(LISTENING, 30_000, 2);
    expect(await (await fetch(second!)).text()).toBe('second');
    cli.process.kill('SIGTERM');
    await within(20_000, cli.exited, 'the command exiting');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
