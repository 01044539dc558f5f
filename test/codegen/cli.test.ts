import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, run, runTs } from '../support/run.js';

const cli = (args: string[], cwd?: string) => runTs('codegen/cli.ts', args, cwd);
let work: string;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'tsgi-codegen-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

test('generated/ in the repository is what schema/ gives', () => {
  const result = cli(['--check']);
  expect(result.stderr).toBe('');
  expect(result.stdout).toContain('generated/ is up to date with schema/');
  expect(result.status).toBe(0);
});

test('every generated file says it is generated, from what, by which command', () => {
  for (const name of ['types.ts', 'validators.ts', 'guards.ts', 'index.ts', 'explain.ts']) {
    const text = readFileSync(join(repoRoot, 'generated', name), 'utf8');
    expect(text).toMatch(/^\/\*\*\n \* GENERATED FILE: do not edit by hand\.\n \* Regenerate with: tsgi-codegen --schema schema --out generated\n/);
  }
  expect(readFileSync(join(repoRoot, 'generated', 'guards.ts'), 'utf8')).toContain(' *   schema/http/response-start.json\n');
});

describe('--check', () => {
  beforeEach(() => {
    cpSync(join(repoRoot, 'schema'), join(work, 'schema'), { recursive: true });
    expect(cli(['--schema', 'schema', '--out', 'out'], work).status).toBe(0);
    expect(cli(['--schema', 'schema', '--out', 'out', '--check'], work).status).toBe(0);
  });

  test('fails and names the files a schema change makes stale', () => {
    const file = join(work, 'schema', 'http', 'response-start.json');
    const schema = JSON.parse(readFileSync(file, 'utf8'));
    schema.properties.status.maximum = 999;
    writeFileSync(file, JSON.stringify(schema));
    const result = cli(['--schema', 'schema', '--out', 'out', '--check'], work);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('out/ is stale');
    expect(result.stderr).toContain('out/validators.ts (differs)');
    expect(result.stderr).not.toContain('out/explain.ts');
  });

  test('names a missing file and a file the schemas do not produce', () => {
    rmSync(join(work, 'out', 'guards.ts'));
    writeFileSync(join(work, 'out', 'handmade.ts'), 'export {};\n');
    const result = cli(['--schema', 'schema', '--out', 'out', '--check'], work);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('out/guards.ts (missing)');
    expect(result.stderr).toContain('out/handmade.ts (not generated from the schemas)');
  });

  test('a hand edit to a generated file is caught', () => {
    const file = join(work, 'out', 'types.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('status: number', 'status: number | string'));
    const result = cli(['--schema', 'schema', '--out', 'out', '--check'], work);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('out/types.ts (differs)');
  });
});

describe("a user's own extension schemas", () => {
  const extension = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://example.org/asgi/http/response-stats.json',
    title: 'HTTPResponseStatsEvent',
    description: 'Reports how long the app took, for a server that logs it.',
    'x-asgi': { protocol: 'http', role: 'send', extension: 'example.stats' },
    type: 'object',
    required: ['type', 'elapsed_ms'],
    properties: {
      type: { type: 'string', const: 'example.stats' },
      elapsed_ms: { type: 'integer', minimum: 0 },
      headers: { description: 'Extra fields to log.', $ref: 'tsgi://schema/common/headers.json' },
    },
  };

  beforeEach(() => {
    // An ESM project, as tsgi's users' are.
    writeFileSync(join(work, 'package.json'), JSON.stringify({ type: 'module' }));
    mkdirSync(join(work, 'ext'));
    writeFileSync(join(work, 'ext', 'stats.json'), JSON.stringify(extension, null, 2));
  });

  test('get the same kind of output: types importing tsgi, guards, an index', async () => {
    const result = cli(['--schema', 'ext', '--out', 'ext-generated'], work);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const types = readFileSync(join(work, 'ext-generated', 'types.ts'), 'utf8');
    expect(types).toContain('import type { Headers } from "tsgi";');
    expect(types).toContain('export interface HTTPResponseStatsEvent {');
    expect(types).toContain('export type HTTPSendEvent = HTTPResponseStatsEvent;');
    expect(readFileSync(join(work, 'ext-generated', 'validators.ts'), 'utf8')).not.toMatch(/^\s*import [^t]/m);

    const mod = (await import(join(work, 'ext-generated', 'index.ts'))) as Record<string, unknown> & {
      isHTTPResponseStatsEvent: (v: unknown) => boolean;
      explainHTTPResponseStatsEvent: (v: unknown) => unknown;
      messageGuards: ReadonlyMap<string, { extension: string | null }>;
    };
    const ok = { type: 'example.stats', elapsed_ms: 12, headers: [[new Uint8Array([97]), new Uint8Array([98])]] };
    expect(mod.isHTTPResponseStatsEvent(ok)).toBe(true);
    expect(mod.explainHTTPResponseStatsEvent({ ...ok, headers: [['a', 'b']] })).toMatchObject({ path: '/headers/0/0', rule: 'instanceof' });
    expect(mod.messageGuards.get('example.stats')?.extension).toBe('example.stats');
  });

  test('the output type-checks against tsgi', () => {
    expect(cli(['--schema', 'ext', '--out', 'ext-generated'], work).status).toBe(0);
    writeFileSync(join(work, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', skipLibCheck: true,
        types: [], paths: { tsgi: [join(repoRoot, 'src', 'index.ts')] },
      },
      include: ['ext-generated'],
    }));
    const result = run(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], work);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  }, 60_000);

  test('a schema without a usable title is refused, naming the file', () => {
    writeFileSync(join(work, 'ext', 'stats.json'), JSON.stringify({ ...extension, title: 'not an identifier' }));
    const result = cli(['--schema', 'ext', '--out', 'ext-generated'], work);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('ext/stats.json: needs a "title" that is a TypeScript identifier');
  });

  test('a malformed x-asgi annotation is refused', () => {
    writeFileSync(join(work, 'ext', 'stats.json'), JSON.stringify({ ...extension, 'x-asgi': { protocol: 'http', role: 'sideways' } }));
    const result = cli(['--schema', 'ext', '--out', 'ext-generated'], work);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('x-asgi');
  });
});

test('unknown options are a usage error', () => {
  const result = cli(['--frobnicate']);
  expect(result.status).toBe(2);
  expect(result.stderr).toContain('usage: tsgi-codegen');
});
