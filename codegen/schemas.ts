/**
 * Reads a folder of JSON Schemas into the form the emitters need: each file's schema, its
 * path, and the `x-asgi` annotation that places it in the protocol.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { AsgiAnnotation } from './keywords.js';

export interface SchemaFile {
  /** Path relative to the schema folder, with forward slashes: stable across machines. */
  file: string;
  /** Path as given on the command line, for headers and messages. */
  displayPath: string;
  id: string;
  title: string;
  schema: Record<string, unknown>;
  asgi: AsgiAnnotation | undefined;
  /** The message `type` or scope `type`, from `properties.type.const`. */
  typeName: string | undefined;
}

function listJson(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listJson(full));
    else if (name.endsWith('.json')) out.push(full);
  }
  return out;
}

export function loadSchemas(dir: string, displayDir: string): SchemaFile[] {
  const files = listJson(dir);
  if (files.length === 0) throw new Error(`no .json schema files under ${displayDir}`);
  const loaded = files.map((full): SchemaFile => {
    const file = relative(dir, full).split(sep).join('/');
    const displayPath = `${displayDir.replace(/\/+$/, '')}/${file}`;
    let schema: Record<string, unknown>;
    try {
      schema = JSON.parse(readFileSync(full, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`${displayPath}: not valid JSON: ${(error as Error).message}`);
    }
    const { $id: id, title } = schema;
    if (typeof id !== 'string') throw new Error(`${displayPath}: needs a string "$id"`);
    if (typeof title !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(title)) {
      throw new Error(`${displayPath}: needs a "title" that is a TypeScript identifier (the type's name)`);
    }
    const asgi = schema['x-asgi'] as AsgiAnnotation | undefined;
    const typeProp = (schema.properties as Record<string, { const?: unknown }> | undefined)?.type;
    const typeName = typeof typeProp?.const === 'string' ? typeProp.const : undefined;
    if (asgi && typeName === undefined) {
      throw new Error(`${displayPath}: an "x-asgi" schema needs properties.type.const, the message or scope type`);
    }
    return { file, displayPath, id, title, schema, asgi, typeName };
  });
  const seen = new Map<string, string>();
  for (const s of loaded) {
    for (const key of [`title ${s.title}`, `$id ${s.id}`, s.typeName ? `type ${s.typeName}` : '']) {
      if (!key) continue;
      const other = seen.get(key);
      if (other) throw new Error(`${s.displayPath}: ${key} is already used by ${other}`);
      seen.set(key, s.displayPath);
    }
  }
  return loaded;
}

/** Protocol names as they appear in type names: asgiref's spelling for the known ones. */
const PROTOCOL_PREFIX: Record<string, string> = { http: 'HTTP', websocket: 'WebSocket', lifespan: 'Lifespan' };

export function protocolPrefix(protocol: string): string {
  return (
    PROTOCOL_PREFIX[protocol] ??
    protocol.replace(/(^|_)([a-z0-9])/g, (_m, _sep: string, c: string) => c.toUpperCase())
  );
}
