/** Runs every emitter over a schema folder and returns the files to write, by name. */
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { emitGuards, emitIndex, emitPredicateModule, emitValidators } from './guards.js';
import { generatedHeader } from './header.js';
import { packageRoot } from './package-root.js';
import { loadSchemas } from './schemas.js';
import { emitTypes } from './types.js';

export interface GenerateOptions {
  /** The schema folder, as a path and as it should be shown in headers. */
  schemaDir: string;
  displaySchemaDir: string;
  /** The command that regenerates, recorded in every header. */
  command: string;
}

export async function generate({ schemaDir, displaySchemaDir, command }: GenerateOptions): Promise<Map<string, string>> {
  const own = loadSchemas(schemaDir, displaySchemaDir);
  const builtinDir = join(packageRoot(), 'schema');
  // A user's extension schemas may $ref tsgi's own (headers, bytes); tsgi's run needs no library.
  const library = realpathSync(builtinDir) === realpathSync(schemaDir) ? [] : loadSchemas(builtinDir, 'tsgi/schema');
  const sources = own.map((s) => s.displayPath);
  const header = generatedHeader(sources, command);
  const template = readFileSync(join(packageRoot(), 'codegen', 'templates', 'explain.ts'), 'utf8');

  const files = new Map<string, string>();
  files.set('types.ts', header + (await emitTypes({ own, library, libraryImport: 'tsgi' })));
  files.set('validators.ts', header + emitValidators(own, library));
  const predicates = emitPredicateModule(own, library);
  files.set('predicates.ts', header + predicates.code);
  files.set('explain.ts', generatedHeader(['codegen/templates/explain.ts (copied as is)'], command) + template);
  files.set('guards.ts', emitGuards(own, header, predicates.compiled));
  files.set('index.ts', emitIndex(own, header));
  return files;
}
