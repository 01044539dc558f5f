/**
 * `MODULE[:EXPORT]` to an ASGI app: find the file, make sure node can load it (TypeScript through
 * node's own type stripping, else tsx), import it and pick the export.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ASGIApp } from '../protocol.js';
import { UsageError } from './flags.js';

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const TYPESCRIPT = /\.[cm]?tsx?$/;

/** Splits `path:exportName`; a colon that is part of the path (`C:\app.ts`) stays in it. */
export function parseAppSpec(spec: string): { file: string; exportName: string | undefined } {
  const colon = spec.lastIndexOf(':');
  if (colon > 1 && IDENTIFIER.test(spec.slice(colon + 1))) return { file: spec.slice(0, colon), exportName: spec.slice(colon + 1) };
  return { file: spec, exportName: undefined };
}

/** Whether this node loads `.ts` by itself: type stripping on by default (23.6+) or by flag. */
function nodeStripsTypes(): boolean {
  return Boolean((process.features as { typescript?: unknown }).typescript);
}

/** Whether tsx's loader is already in this process (run as `tsx …` or `node --import tsx …`). */
function tsxActive(): boolean {
  return process.execArgv.some((arg) => /[\\/]tsx[\\/]|^tsx$|=tsx$/.test(arg));
}

/**
 * tsx's two registration APIs, from the user's project first, else from tsgi's own dependencies:
 * `tsx/esm/api` for modules node loads as ESM, `tsx/cjs/api` for those it loads as CommonJS (a
 * `.ts` file outside a `"type": "module"` package). `require.resolve` would pick the CommonJS
 * build of the ESM API, which cannot register ESM hooks, so its `import` target is read from
 * tsx's package.json.
 */
async function registerTsx(cwd: string): Promise<boolean> {
  for (const base of [join(cwd, 'package.json'), import.meta.url]) {
    const require = createRequire(base);
    let manifest: string;
    try {
      manifest = require.resolve('tsx/package.json');
    } catch {
      continue; // not installed there
    }
    const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, { import?: string | { default?: string } }> };
    const target = exports?.['./esm/api']?.import;
    const esm = typeof target === 'string' ? target : target?.default;
    if (esm === undefined) continue;
    const api = (await import(pathToFileURL(join(dirname(manifest), esm)).href)) as { register: () => unknown };
    api.register();
    (require('tsx/cjs/api') as { register: () => unknown }).register();
    return true;
  }
  return false;
}

async function enableTypeScript(file: string, cwd: string): Promise<void> {
  if (nodeStripsTypes() || tsxActive()) return;
  if (!(await registerTsx(cwd))) {
    throw new UsageError(`${file} is TypeScript, which node ${process.version} cannot load by itself: install tsx (npm install --save-dev tsx), or use node 23.6 or later`);
  }
}

/** Imports the app module and returns the app: EXPORT, else `app`, else the default export. */
export async function loadApp(spec: string, cwd = process.cwd()): Promise<ASGIApp> {
  const { file, exportName } = parseAppSpec(spec);
  const path = resolve(cwd, file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`cannot find the app module ${file} (no file ${path})`);
  if (TYPESCRIPT.test(path)) await enableTypeScript(file, cwd);
  // An error inside the module is the app's own: it propagates with its stack.
  let module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  // A CommonJS module whose exports node could not list statically arrives as its `default`.
  const commonJs = module.default;
  if (typeof commonJs === 'object' && commonJs !== null && module.app === undefined && (exportName === undefined || module[exportName] === undefined)) {
    module = { ...(commonJs as Record<string, unknown>), default: (commonJs as Record<string, unknown>).default ?? commonJs };
  }
  const names = exportName !== undefined ? [exportName] : ['app', 'default'];
  const name = names.find((n) => module[n] !== undefined);
  if (name === undefined) {
    const has = Object.keys(module).filter((n) => n !== '__esModule');
    const wanted = exportName !== undefined ? `no export '${exportName}'` : "neither an export 'app' nor a default export";
    throw new UsageError(`${file} has ${wanted} (its exports: ${has.length === 0 ? 'none' : has.join(', ')})`);
  }
  const app = module[name];
  if (typeof app !== 'function') throw new UsageError(`${file}'s export '${name}' is not an ASGI app (a function); it is ${app === null ? 'null' : typeof app}`);
  return app as ASGIApp;
}
