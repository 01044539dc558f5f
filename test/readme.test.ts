/**
 * Every TypeScript example in the README that imports tsgi compiles against the sources, so the
 * documentation cannot drift from the API.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, run } from './support/run.js';

const blocks = [...readFileSync(join(repoRoot, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .filter((code) => /from 'tsgi(\/node|\/testing|\/aws-lambda)?'/.test(code));

test('the README has examples for each entry point', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(6);
  for (const entry of ["'tsgi'", "'tsgi/node'", "'tsgi/testing'"]) expect(blocks.some((b) => b.includes(entry))).toBe(true);
});

test('every README example type-checks', () => {
  mkdirSync(join(repoRoot, 'build'), { recursive: true });
  const dir = mkdtempSync(join(repoRoot, 'build', 'readme-'));
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    // The examples that serve or test "./app.js" get a small one.
    writeFileSync(join(dir, 'app.ts'), "import { PlainTextResponse } from 'tsgi';\nexport const app = new PlainTextResponse('hi');\n");
    blocks.forEach((code, i) => writeFileSync(join(dir, `example-${i}.ts`), `${code}\nexport {};\n`));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2023'],
        skipLibCheck: true, types: ['node'], typeRoots: [join(repoRoot, 'node_modules', '@types')],
        paths: {
          tsgi: [join(repoRoot, 'src', 'index.ts')],
          'tsgi/node': [join(repoRoot, 'src', 'node', 'index.ts')],
          'tsgi/testing': [join(repoRoot, 'src', 'testing', 'index.ts')],
          'tsgi/aws-lambda': [join(repoRoot, 'src', 'aws-lambda', 'index.ts')],
        },
      },
      include: ['*.ts'],
    }));
    const result = run(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], dir, 120_000);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
