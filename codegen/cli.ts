#!/usr/bin/env node
/**
 * tsgi-codegen [--schema DIR] [--out DIR] [--check]
 *
 * Turns a folder of ASGI JSON Schemas into TypeScript types, type guards and a type-to-guard
 * index. With --check it writes nothing and fails, naming the files, when the output folder is
 * not what the schemas give.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = 'usage: tsgi-codegen [--schema DIR] [--out DIR] [--check]';

function displayPath(path: string): string {
  const rel = relative(process.cwd(), resolve(path)).split('\\').join('/');
  return rel === '' ? '.' : rel;
}

async function main(argv: string[]): Promise<number> {
  let values: { schema: string; out: string; check: boolean; help: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        schema: { type: 'string', default: 'schema' },
        out: { type: 'string', default: 'generated' },
        check: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }) as { values: typeof values });
  } catch (error) {
    console.error(`tsgi-codegen: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }

  let generate: typeof import('./generate.js').generate;
  try {
    ({ generate } = await import('./generate.js'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      console.error(
        `tsgi-codegen: ${(error as Error).message}\n` +
          'The generator needs its optional peer dependencies: npm install --save-dev ajv json-schema-to-typescript ts-morph',
      );
      return 2;
    }
    throw error;
  }

  const schemaShown = displayPath(values.schema);
  const outShown = displayPath(values.out);
  const files = await generate({
    schemaDir: resolve(values.schema),
    displaySchemaDir: schemaShown,
    command: `tsgi-codegen --schema ${schemaShown} --out ${outShown}`,
  });

  const outDir = resolve(values.out);
  if (values.check) {
    const stale: string[] = [];
    for (const [name, content] of files) {
      const path = join(outDir, name);
      if (!existsSync(path)) stale.push(`${outShown}/${name} (missing)`);
      else if (readFileSync(path, 'utf8') !== content) stale.push(`${outShown}/${name} (differs)`);
    }
    if (existsSync(outDir)) {
      for (const name of readdirSync(outDir).sort()) {
        if (!files.has(name)) stale.push(`${outShown}/${name} (not generated from the schemas)`);
      }
    }
    if (stale.length > 0) {
      console.error(`tsgi-codegen --check: ${outShown}/ is stale; run the generator again. Stale files:`);
      for (const s of stale) console.error(`  ${s}`);
      return 1;
    }
    console.log(`tsgi-codegen --check: ${outShown}/ is up to date with ${schemaShown}/ (${files.size} files)`);
    return 0;
  }

  mkdirSync(outDir, { recursive: true });
  for (const [name, content] of files) writeFileSync(join(outDir, name), content);
  console.log(`tsgi-codegen: wrote ${files.size} files to ${outShown}/ from ${schemaShown}/`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`tsgi-codegen: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
