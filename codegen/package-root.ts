/** Finds tsgi's own files (its schemas, the explain template) from wherever the CLI runs. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  // codegen/*.ts in the repository, dist/codegen/*.js once built: walk up to tsgi's package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'tsgi') {
      return (cached = dir);
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('tsgi-codegen: cannot find the tsgi package root');
    dir = parent;
  }
}
