/**
 * Emits the guards. ajv compiles every schema to standalone JavaScript (validators.ts); ts-morph
 * then writes the typed surface over it: `isX` guards, `explainX` functions and the index that
 * maps each `type` string to its guard for the runtime.
 */
import ajvModule from 'ajv';
import standaloneModule from 'ajv/dist/standalone/index.js';
import { Project, VariableDeclarationKind, type SourceFile } from 'ts-morph';
import { AJV_OPTIONS, addTsgiVocabulary } from './keywords.js';
import { emitPredicates } from './predicates.js';
import type { SchemaFile } from './schemas.js';

// ajv ships CommonJS with a `default` export that ESM sees one level down.
const Ajv = ajvModule.default;
const standaloneCode = standaloneModule.default;

const validatorName = (s: SchemaFile) => `validate${s.title}`;
const predicateName = (s: SchemaFile) => `matches${s.title}`;

/**
 * The plain predicates behind the `isX` guards (predicates.ts), and which schemas have one; a
 * schema without one keeps ajv's validator as its guard.
 */
export function emitPredicateModule(own: readonly SchemaFile[], library: readonly SchemaFile[]): { code: string; compiled: ReadonlySet<string> } {
  const byId = new Map<string, SchemaFile>();
  for (const s of [...library, ...own]) byId.set(s.id, s);
  const { code, compiled } = emitPredicates(own.map((s) => ({ name: predicateName(s), schema: inlineRefs(s.schema, s.id, byId, [s.id]) })));
  return { code, compiled: new Set(own.filter((s) => compiled.has(predicateName(s))).map((s) => s.id)) };
}

const SIGNATURE = /^function (validate\d+)\(data, \{instancePath="", parentData, parentDataProperty, rootData=data\}=\{\}\)\{$/gm;
const SUCCESS_EXIT = /^(validate\d+)\.errors = vErrors;\nreturn errors === 0;\n\}$/gm;

/**
 * Two rewrites of ajv's output for the per-message hot path, each measured by bench/guards:
 * - The entry signature destructures a defaulted `{}` on every call: an allocation that made the
 *   body guard 2x a hand-written one. The rewrite only destructures when options are passed
 *   (ajv passes them to itself for refs it does not inline), so the meaning is unchanged.
 * - On success ajv stores `errors = null` on the function object. Nothing reads `errors` after a
 *   true return, and every false return stores its errors first, so the store is dropped.
 */
function tightenHotPath(code: string, expected: number): string {
  let signatures = 0;
  let exits = 0;
  const out = code
    .replace(SIGNATURE, (_m, name: string) => {
      signatures += 1;
      return `function ${name}(data, options){\nlet instancePath = "", parentData, parentDataProperty, rootData = data;\nif (options !== undefined) ({instancePath = "", parentData, parentDataProperty, rootData = data} = options);`;
    })
    .replace(SUCCESS_EXIT, () => {
      exits += 1;
      return 'return errors === 0;\n}';
    });
  // ajv's output format is not an API: fail loudly rather than emit half-rewritten code.
  if (signatures < expected || exits !== signatures) {
    throw new Error(`ajv output changed shape: rewrote ${signatures} signatures and ${exits} exits for ${expected} validators`);
  }
  return out;
}

/**
 * Replaces each non-recursive `$ref` by the schema it points to. ajv calls a separate function,
 * with an options object, for any referenced schema that itself holds a `$ref` (a header pair
 * refers to bytes): one call per header on the hot path. In draft-07 the siblings of `$ref` are
 * ignored, so substituting the target is exact. A recursive `$ref` is left for ajv to call.
 */
export function inlineRefs(node: unknown, base: string, byId: ReadonlyMap<string, SchemaFile>, stack: readonly string[] = []): unknown {
  if (Array.isArray(node)) return node.map((item) => inlineRefs(item, base, byId, stack));
  if (node === null || typeof node !== 'object') return node;
  const record = node as Record<string, unknown>;
  if (typeof record.$ref === 'string') {
    const target = new URL(record.$ref, base).href;
    const schema = byId.get(target);
    if (!schema) throw new Error(`unresolved $ref ${record.$ref} in ${base}`);
    if (stack.includes(target)) return { $ref: target };
    const { $id: _id, $schema: _schema, ...body } = schema.schema;
    return inlineRefs(body, target, byId, [...stack, target]);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    // `properties` maps names to schemas; a property named "$ref" is not a reference.
    out[key] = key === 'properties' || key === 'definitions'
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, inlineRefs(v, base, byId, stack)]))
      : inlineRefs(value, base, byId, stack);
  }
  return out;
}

export function emitValidators(own: readonly SchemaFile[], library: readonly SchemaFile[]): string {
  const ajv = addTsgiVocabulary(new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: true, lines: true } }));
  const byId = new Map<string, SchemaFile>();
  for (const s of [...library, ...own]) byId.set(s.id, s);
  // Recursive refs that stay need their targets registered; own schemas are added inlined.
  const ownIds = new Set(own.map((s) => s.id));
  for (const s of library) if (!ownIds.has(s.id)) ajv.addSchema(s.schema, s.id);
  for (const s of own) ajv.addSchema(inlineRefs(s.schema, s.id, byId, [s.id]) as object, s.id);
  const exports: Record<string, string> = {};
  for (const s of own) exports[validatorName(s)] = s.id;
  const code = tightenHotPath(standaloneCode(ajv, exports), own.length);
  if (/^\s*(const .*require\(|import\s)/m.test(code)) {
    // A keyword that needs ajv's runtime (unicode string length, deep equality) slipped in.
    const line = /^\s*(const .*require\(|import\s).*/m.exec(code)?.[0] ?? '';
    throw new Error(`generated validators would import ajv at run time (${line.trim()}); avoid keywords that need it`);
  }
  // ajv's output is untyped JavaScript. Its exports get a declared type, which is all that
  // importers see; guards.ts then narrows each to a type guard.
  let typed = 0;
  const annotated = code.replace(/^export const (\w+) = (validate\d+);$/gm, (_m, name: string, fn: string) => {
    typed += 1;
    return `export const ${name}: CompiledValidator = ${fn};`;
  });
  if (typed !== own.length) throw new Error(`expected ${own.length} validator exports from ajv, found ${typed}`);
  return `// @ts-nocheck\nimport type { CompiledValidator } from './explain.js';\n${annotated.trim()}\n`;
}

function docOf(s: SchemaFile): string {
  return typeof s.schema.description === 'string' ? s.schema.description : s.title;
}

function newFile(name: string): SourceFile {
  return new Project({ useInMemoryFileSystem: true }).createSourceFile(name, '');
}

/** ts-morph puts imports above a leading comment, so the banner goes on after printing. */
function print(file: SourceFile, header: string): string {
  file.formatText({ indentSize: 2 });
  return header + file.getFullText();
}

export function emitGuards(own: readonly SchemaFile[], header: string, predicates: ReadonlySet<string> = new Set()): string {
  const file = newFile('guards.ts');
  file.addImportDeclaration({ moduleSpecifier: './explain.js', namedImports: ['explainFailure', 'type GuardFailure'] });
  const withPredicate = own.filter((s) => predicates.has(s.id));
  if (withPredicate.length > 0) file.addImportDeclaration({ moduleSpecifier: './predicates.js', namedImports: withPredicate.map(predicateName) });
  file.addImportDeclaration({ isTypeOnly: true, moduleSpecifier: './types.js', namedImports: own.map((s) => s.title) });
  file.addImportDeclaration({ moduleSpecifier: './validators.js', namedImports: own.map(validatorName) });
  for (const s of own) {
    const v = validatorName(s);
    // The guard is the predicate (else ajv's function) itself: no wrapper call on the hot path.
    const guard = predicates.has(s.id) ? predicateName(s) : v;
    file.addVariableStatement({
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: [`True when \`value\` is a well-formed \`${s.title}\`. ${docOf(s)}`],
      declarations: [{ name: `is${s.title}`, type: `(value: unknown) => value is ${s.title}`, initializer: `${guard} as (value: unknown) => value is ${s.title}` }],
    });
    file.addFunction({
      isExported: true,
      name: `explain${s.title}`,
      docs: [`Why \`value\` is not a well-formed \`${s.title}\`, or null when it is one.`],
      parameters: [{ name: 'value', type: 'unknown' }],
      returnType: 'GuardFailure | null',
      statements: `return ${v}(value) ? null : explainFailure(${v}.errors, value);`,
    });
  }
  return print(file, header);
}

export function emitIndex(own: readonly SchemaFile[], header: string): string {
  const file = newFile('index.ts');
  const entries = own.filter((s) => s.asgi);
  const scopes = entries.filter((s) => s.asgi!.role === 'scope');
  const messages = entries.filter((s) => s.asgi!.role !== 'scope');
  const guardNames = entries.flatMap((s) => [`is${s.title}`, `explain${s.title}`]);
  file.addExportDeclaration({ moduleSpecifier: './types.js' });
  file.addExportDeclaration({ moduleSpecifier: './guards.js' });
  file.addExportDeclaration({ moduleSpecifier: './explain.js', namedExports: ['explainFailure', 'type GuardFailure', 'type MessageGuard', 'type ScopeGuard'] });
  file.addImportDeclaration({ isTypeOnly: true, moduleSpecifier: './explain.js', namedImports: ['MessageGuard', 'ScopeGuard'] });
  if (guardNames.length > 0) file.addImportDeclaration({ moduleSpecifier: './guards.js', namedImports: guardNames });
  const q = JSON.stringify;
  file.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ['Scope guards by scope `type`.'],
    declarations: [{
      name: 'scopeGuards',
      type: 'ReadonlyMap<string, ScopeGuard>',
      initializer: `new Map<string, ScopeGuard>([\n${scopes
        .map((s) => `[${q(s.typeName)}, { type: ${q(s.typeName)}, protocol: ${q(s.asgi!.protocol)}, is: is${s.title}, explain: explain${s.title} }],`)
        .join('\n')}\n])`,
    }],
  });
  file.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ['Message guards by message `type`, with the protocol and direction each belongs to.'],
    declarations: [{
      name: 'messageGuards',
      type: 'ReadonlyMap<string, MessageGuard>',
      initializer: `new Map<string, MessageGuard>([\n${messages
        .map((s) => `[${q(s.typeName)}, { type: ${q(s.typeName)}, protocol: ${q(s.asgi!.protocol)}, direction: ${q(s.asgi!.role)}, extension: ${s.asgi!.extension ? q(s.asgi!.extension) : 'null'}, is: is${s.title}, explain: explain${s.title} }],`)
        .join('\n')}\n])`,
    }],
  });
  return print(file, header);
}
