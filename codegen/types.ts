/**
 * Emits the TypeScript types: one declaration per schema from json-schema-to-typescript, then
 * the unions per protocol and direction (asgiref's `HTTPSendEvent`, `ASGIReceiveEvent`, ...),
 * added with ts-morph so that every declaration goes through one printer.
 */
import { compile } from 'json-schema-to-typescript';
import { Project } from 'ts-morph';
import { protocolPrefix, type SchemaFile } from './schemas.js';

type Json = unknown;

/**
 * Replaces every `$ref` by a `tsType` naming the referenced type, keeping the sibling keywords.
 * json-schema-to-typescript would otherwise inline the target and mint `Headers1`, `Headers2`
 * for each property that adds a description; naming the type keeps both the name and the doc.
 */
function refsToTypeNames(node: Json, base: string, byId: ReadonlyMap<string, SchemaFile>, used: Set<string>): Json {
  if (Array.isArray(node)) return node.map((item) => refsToTypeNames(item, base, byId, used));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$id' || key === '$schema' || key === 'x-asgi') continue;
    if (key === '$ref') {
      const target = byId.get(new URL(value as string, base).href);
      if (!target) throw new Error(`unresolved $ref ${String(value)} in ${base}`);
      const tsType = target.schema.tsType;
      // A schema that is a named stand-in for a TypeScript type (Bytes is Uint8Array) is
      // written as that type, which reads better at the use site.
      out.tsType = typeof tsType === 'string' ? tsType : target.title;
      if (typeof tsType !== 'string') used.add(target.title);
      continue;
    }
    out[key] = refsToTypeNames(value, base, byId, used);
  }
  // json-schema-to-typescript drops `default`; the spec's default belongs in the doc comment.
  if ('default' in out && typeof out.description === 'string') {
    out.description = `${out.description}\n\n@default ${JSON.stringify(out.default)}`;
  }
  return out;
}

export interface TypesModuleInput {
  own: readonly SchemaFile[];
  /** Schemas that own ones may `$ref` but that are declared elsewhere (tsgi's, for users). */
  library: readonly SchemaFile[];
  /** Where library types are imported from, when an own schema refers to one. */
  libraryImport: string;
}

export async function emitTypes({ own, library, libraryImport }: TypesModuleInput): Promise<string> {
  const byId = new Map<string, SchemaFile>();
  for (const s of [...library, ...own]) byId.set(s.id, s);
  const ownTitles = new Set(own.map((s) => s.title));
  const used = new Set<string>();

  const declarations: string[] = [];
  for (const s of own) {
    const input = refsToTypeNames(s.schema, s.id, byId, used) as Record<string, unknown>;
    const ts = await compile(input as never, s.title, {
      bannerComment: '',
      additionalProperties: false,
      declareExternallyReferenced: false,
      format: true,
      strictIndexSignatures: false,
    });
    declarations.push(ts.trim());
  }

  const project = new Project({ useInMemoryFileSystem: true });
  const file = project.createSourceFile('types.ts', declarations.join('\n\n') + '\n');
  const fromLibrary = [...used].filter((t) => !ownTitles.has(t)).sort();
  if (fromLibrary.length > 0) {
    file.insertImportDeclaration(0, { isTypeOnly: true, moduleSpecifier: libraryImport, namedImports: fromLibrary });
  }

  const protocols = [...new Set(own.filter((s) => s.asgi).map((s) => s.asgi!.protocol))].sort();
  const scopes = own.filter((s) => s.asgi?.role === 'scope');
  const unionsByDirection: Record<'receive' | 'send', string[]> = { receive: [], send: [] };
  for (const protocol of protocols) {
    for (const direction of ['receive', 'send'] as const) {
      const members = own.filter((s) => s.asgi?.protocol === protocol && s.asgi.role === direction);
      if (members.length === 0) continue;
      const stem = `${protocolPrefix(protocol)}${direction === 'receive' ? 'Receive' : 'Send'}`;
      // asgiref names a WebSocket message `WebSocketReceiveEvent` (and `...SendEvent`): when a
      // message already owns the union's usual name, the union is the protocol's `...Message`.
      const name = ownTitles.has(`${stem}Event`) ? `${stem}Message` : `${stem}Event`;
      unionsByDirection[direction].push(name);
      file.addTypeAlias({
        isExported: true,
        name,
        type: members.map((m) => m.title).join(' | '),
        docs: [
          direction === 'receive'
            ? `Every ${protocol} message a server hands the app through \`receive()\`.`
            : `Every ${protocol} message an app may pass to \`send()\`.`,
        ],
      });
    }
  }
  for (const direction of ['receive', 'send'] as const) {
    const members = unionsByDirection[direction];
    if (members.length === 0) continue;
    file.addTypeAlias({
      isExported: true,
      name: direction === 'receive' ? 'ASGIReceiveEvent' : 'ASGISendEvent',
      type: members.join(' | '),
      docs: [`Every message of every protocol here that travels ${direction === 'receive' ? 'from server to app' : 'from app to server'}.`],
    });
  }
  if (scopes.length > 0) {
    file.addTypeAlias({
      isExported: true,
      name: 'Scope',
      type: scopes.map((s) => s.title).join(' | '),
      docs: ['Every connection scope of every protocol here, told apart by `type`.'],
    });
  }
  return file.getFullText();
}
