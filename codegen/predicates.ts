/**
 * Compiles a schema (its refs already inlined) to a plain predicate: the `isX` guards. ajv's
 * standalone code carries its error bookkeeping on the success path too (a counter compared
 * after every keyword, a property read twice for `required` and then `properties`), which keeps
 * it at 1.3-1.6x a hand-written guard; this emits what a careful person writes by hand, one
 * boolean expression per schema. ajv's code stays for the `explainX` functions, which need its
 * errors, and as the guard of any schema that uses a keyword this compiler does not know.
 * test/generated/guards.property.test.ts holds every predicate to ajv's verdict.
 */

/** A schema keyword this compiler does not handle: the caller falls back to ajv's validator. */
export class Unsupported extends Error {}

type Schema = Record<string, unknown>;

// Keywords that say nothing about validity (ajv does not apply defaults in tsgi's options).
const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'tsType', 'x-asgi']);
const KEYWORDS = new Set([
  'type', 'const', 'enum', 'pattern', 'minimum', 'maximum', 'instanceof', 'anyOf', 'oneOf',
  'properties', 'required', 'additionalProperties', 'items', 'minItems', 'maxItems',
]);
const CLASS_NAME = /^[A-Z][A-Za-z0-9_]*$/;

const TYPE_TEST: Record<string, (v: string) => string> = {
  object: (v) => `(typeof ${v} === "object" && ${v} !== null && !Array.isArray(${v}))`,
  array: (v) => `Array.isArray(${v})`,
  string: (v) => `typeof ${v} === "string"`,
  boolean: (v) => `typeof ${v} === "boolean"`,
  null: (v) => `${v} === null`,
  integer: (v) => `Number.isInteger(${v})`,
  // ajv rejects NaN and the infinities as numbers.
  number: (v) => `(typeof ${v} === "number" && isFinite(${v}))`,
};

/** Which JSON type a primitive value has, in the schema's words. */
function jsonType(value: unknown): string[] {
  if (value === null) return ['null'];
  if (typeof value === 'number') return Number.isInteger(value) ? ['integer', 'number'] : ['number'];
  return [typeof value];
}

function isPrimitive(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/**
 * Module-level helpers the predicates share: regular expressions, loops, nested objects. Each
 * schema gets its own, even where two are the same text: one helper shared by several message
 * types sees objects of several shapes, and its property loads turn polymorphic (tried: sharing
 * took websocket.send from 1.21x to 1.36x a hand-written guard in bench:guards).
 */
class Module {
  readonly helpers: string[] = [];
  private count = 0;

  name(prefix: string): string {
    return `${prefix}${this.count++}`;
  }

  /**
   * A boolean expression: `v` is valid against `schema`. `known` are the JSON types the enclosing
   * schema has already established for `v` (for the alternatives of anyOf and oneOf), so their
   * tests are not repeated.
   */
  expression(schema: unknown, v: string, known?: readonly string[]): string {
    if (schema === true) return 'true';
    if (schema === false) return 'false';
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) throw new Unsupported(`schema ${JSON.stringify(schema)}`);
    const s = schema as Schema;
    for (const key of Object.keys(s)) {
      if (!ANNOTATIONS.has(key) && !KEYWORDS.has(key)) throw new Unsupported(`keyword ${key}`);
    }
    const types = s.type === undefined ? undefined : Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    for (const t of types ?? []) if (!(t in TYPE_TEST)) throw new Unsupported(`type ${t}`);
    /** Whether the `type` keyword alone guarantees that `v` has JSON type `t`. */
    const established = types ?? known;
    const only = (...t: string[]) => established !== undefined && established.every((x) => t.includes(x));
    const parts: string[] = [];

    // A primitive const or enum implies its type; the type test is left out when it adds nothing.
    const fixed = s.const !== undefined ? [s.const] : (s.enum as unknown[] | undefined);
    if (fixed !== undefined) {
      if (!fixed.every(isPrimitive)) throw new Unsupported('const or enum with a structured value');
      const implied = types === undefined || fixed.every((value) => jsonType(value).some((t) => types.includes(t)));
      if (!implied) return 'false';
      parts.push(fixed.length === 1 ? `${v} === ${JSON.stringify(fixed[0])}` : `(${fixed.map((value) => `${v} === ${JSON.stringify(value)}`).join(' || ')})`);
      if (s.const !== undefined && s.enum !== undefined) {
        if (!(s.enum as unknown[]).includes(s.const)) return 'false';
      }
    } else if (types !== undefined) {
      parts.push(types.length === 1 ? TYPE_TEST[types[0]!]!(v) : `(${types.map((t) => TYPE_TEST[t]!(v)).join(' || ')})`);
    }

    // Every other keyword applies only to values of its own type.
    const when = (type: string, test: string, guaranteed: boolean) => {
      parts.push(guaranteed ? test : `(!${TYPE_TEST[type]!(v)} || ${test})`);
    };
    const numeric = only('integer', 'number');
    const numberTest = (test: string) => (numeric ? test : `(typeof ${v} !== "number" || ${test})`);
    if (s.minimum !== undefined) parts.push(numberTest(`${v} >= ${Number(s.minimum)}`));
    if (s.maximum !== undefined) parts.push(numberTest(`${v} <= ${Number(s.maximum)}`));
    if (s.pattern !== undefined) {
      const re = this.name('pattern');
      // Non-unicode, as ajv compiles it with unicodeRegExp off.
      this.helpers.push(`const ${re} = new RegExp(${JSON.stringify(s.pattern)});`);
      parts.push(only('string') ? `${re}.test(${v})` : `(typeof ${v} !== "string" || ${re}.test(${v}))`);
    }
    if (s.instanceof !== undefined) {
      if (typeof s.instanceof !== 'string' || !CLASS_NAME.test(s.instanceof)) throw new Unsupported('instanceof');
      parts.push(`${v} instanceof ${s.instanceof}`);
    }
    if (s.anyOf !== undefined) {
      const alternatives = (s.anyOf as unknown[]).map((alternative) => this.expression(alternative, v, established));
      parts.push(`(${alternatives.join(' || ')})`);
    }
    const arrayKeywords = s.items !== undefined || s.minItems !== undefined || s.maxItems !== undefined;
    if (arrayKeywords) when('array', this.array(s, v), only('array'));
    const objectKeywords = s.properties !== undefined || s.required !== undefined || s.additionalProperties !== undefined;
    if (objectKeywords) when('object', this.object(s, v), only('object'));
    if (s.oneOf !== undefined) {
      // Last, after the cheaper keywords above have had their chance to fail. Exactly one
      // alternative holds. Each expression is a boolean, so for two (text or bytes)
      // "exactly one" is their inequality; for more, a count.
      const alternatives = (s.oneOf as unknown[]).map((alternative) => this.expression(alternative, v, established));
      parts.push(alternatives.length === 2
        ? `((${alternatives[0]}) !== (${alternatives[1]}))`
        : `((${alternatives.map((test) => `(${test} ? 1 : 0)`).join(' + ')}) === 1)`);
    }
    return parts.length === 0 ? 'true' : parts.join(' && ');
  }

  private array(s: Schema, v: string): string {
    const parts: string[] = [];
    if (s.minItems !== undefined && s.minItems === s.maxItems) {
      parts.push(`${v}.length === ${Number(s.minItems)}`);
    } else {
      if (s.minItems !== undefined) parts.push(`${v}.length >= ${Number(s.minItems)}`);
      if (s.maxItems !== undefined) parts.push(`${v}.length <= ${Number(s.maxItems)}`);
    }
    if (Array.isArray(s.items)) {
      // A tuple: each position that is present matches its schema (no additionalItems in tsgi).
      const exact = s.minItems !== undefined && Number(s.minItems) >= s.items.length;
      s.items.forEach((item, i) => {
        const test = this.expression(item, `${v}[${i}]`);
        if (test !== 'true') parts.push(exact ? test : `(${v}.length <= ${i} || ${test})`);
      });
    } else if (s.items !== undefined) {
      const fn = this.name('every');
      const test = this.expression(s.items, 'item');
      if (test !== 'true') {
        this.helpers.push(`function ${fn}(list) {\n  for (let i = 0; i < list.length; i++) {\n    const item = list[i];\n    if (!(${test})) return false;\n  }\n  return true;\n}`);
        parts.push(`${fn}(${v})`);
      }
    }
    return parts.length === 0 ? 'true' : parts.length === 1 ? parts[0]! : `(${parts.join(' && ')})`;
  }

  private object(s: Schema, v: string): string {
    const properties = (s.properties ?? {}) as Record<string, unknown>;
    const required = (s.required ?? []) as string[];
    const fn = this.name('object');
    const lines: string[] = [];
    const names = new Set([...required, ...Object.keys(properties)]);
    let i = 0;
    for (const name of names) {
      const local = `p${i++}`;
      const key = JSON.stringify(name);
      lines.push(`  const ${local} = o[${key}];`);
      const test = name in properties ? this.expression(properties[name], local) : 'true';
      if (required.includes(name)) lines.push(`  if (${local} === undefined${test === 'true' ? '' : ` || !(${test})`}) return false;`);
      else if (test !== 'true') lines.push(`  if (${local} !== undefined && !(${test})) return false;`);
    }
    const extra = s.additionalProperties;
    if (extra !== undefined && extra !== true) {
      const known = Object.keys(properties).map((name) => `key !== ${JSON.stringify(name)}`);
      const test = this.expression(extra, 'o[key]');
      if (test !== 'true') {
        // ajv walks the keys with for-in too, so inherited enumerable keys count alike.
        lines.push(`  for (const key in o) {\n    if (${known.length === 0 ? 'true' : known.join(' && ')} && !(${test})) return false;\n  }`);
      }
    }
    if (lines.length === 0) return 'true';
    this.helpers.push(`function ${fn}(o) {\n${lines.join('\n')}\n  return true;\n}`);
    return `${fn}(${v})`;
  }
}

/**
 * The predicates for `schemas`, as one module's source (JavaScript under `@ts-nocheck`, each
 * export typed); `compiled` names the schemas it has a predicate for. A schema this compiler
 * cannot handle is left out, and its guard stays ajv's.
 */
export function emitPredicates(schemas: readonly { name: string; schema: unknown }[]): { code: string; compiled: Set<string> } {
  const module = new Module();
  const exports: string[] = [];
  const compiled = new Set<string>();
  for (const { name, schema } of schemas) {
    const mark = module.helpers.length;
    try {
      const test = module.expression(schema, 'value');
      exports.push(`export const ${name}: (value: unknown) => boolean = function ${name}(value) {\n  return ${test};\n};`);
      compiled.add(name);
    } catch (error) {
      if (!(error instanceof Unsupported)) throw error;
      module.helpers.length = mark;
    }
  }
  return { code: `// @ts-nocheck\n${[...module.helpers, ...exports].join('\n\n')}\n`, compiled };
}
