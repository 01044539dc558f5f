/**
 * The published package works without TypeScript: pack it, install the tarball into an empty
 * ESM project, and import it with plain Node.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, run } from '../support/run.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'tsgi-pack-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('npm pack, npm install, import from plain Node ESM', () => {
  const pack = run('npm', ['pack', '--pack-destination', work, '--silent'], repoRoot, 240_000);
  expect(pack.status).toBe(0);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  expect(tarball).toBeDefined();

  const app = join(work, 'app');
  run('mkdir', [app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const install = run('npm', ['install', '--no-audit', '--no-fund', '--silent', join(work, tarball!)], app, 240_000);
  expect(install.stderr.replace(/npm warn Unknown user config.*\n/g, '')).toBe('');
  expect(install.status).toBe(0);

  const installed = join(app, 'node_modules', 'tsgi');
  expect(existsSync(join(installed, 'dist', 'src', 'index.d.ts'))).toBe(true);
  expect(existsSync(join(installed, 'dist', 'generated', 'types.d.ts'))).toBe(true);
  // No TypeScript, no ajv: the package must stand on Node alone.
  expect(existsSync(join(app, 'node_modules', 'typescript'))).toBe(false);
  expect(existsSync(join(app, 'node_modules', 'ajv'))).toBe(false);

  writeFileSync(join(app, 'main.js'), [
    "import { isHTTPScope, explainHTTPResponseStartEvent, messageGuards, PlainTextResponse } from 'tsgi';",
    "import { serve } from 'tsgi/node';",
    "import { TestClient } from 'tsgi/testing';",
    "const scope = { type: 'http', asgi: { version: '3.0' }, http_version: '1.1', method: 'GET', path: '/', query_string: new Uint8Array(), headers: [] };",
    'console.log(JSON.stringify({',
    '  scope: isHTTPScope(scope),',
    "  bad: explainHTTPResponseStartEvent({ type: 'http.response.start', status: '200' }),",
    '  types: messageGuards.size,',
    "  tested: await (await new TestClient(new PlainTextResponse('in process')).fetch('/')).text(),",
    "  served: await (async () => { const s = await serve(new PlainTextResponse('over a socket'), { port: 0, signals: false, lifespan: 'off' }); try { return await (await fetch(s.url)).text(); } finally { await s.close(); } })(),",
    '}));',
  ].join('\n'));
  const main = run(process.execPath, ['main.js'], app);
  expect(main.stderr).toBe('');
  expect(JSON.parse(main.stdout)).toEqual({
    scope: true,
    bad: { path: '/status', rule: 'type', message: 'must be an integer', value: '200' },
    types: 24, // 16 HTTP and lifespan messages, 8 WebSocket
    tested: 'in process',
    served: 'over a socket',
  });

  // The generator's bin is installed; without its optional peers it says what to install.
  const bin = run(join(app, 'node_modules', '.bin', 'tsgi-codegen'), ['--schema', 'nowhere'], app);
  expect(bin.status).toBe(2);
  expect(bin.stderr).toContain('npm install --save-dev ajv json-schema-to-typescript ts-morph');
}, 300_000);
