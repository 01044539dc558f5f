/**
 * fast-check arbitraries from JSON Schema, for the subset tsgi's schemas use. Valid values come
 * from the schema; invalid candidates come from mutating a valid value at one random place.
 */
import fc from 'fast-check';

type Schema = Record<string, unknown>;

const bytes = fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)));

function typed(type: string, schema: Schema): fc.Arbitrary<unknown> {
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: (schema.minimum as number | undefined) ?? -1e6, max: (schema.maximum as number | undefined) ?? 1e6 });
    case 'string':
      return typeof schema.pattern === 'string' ? fc.stringMatching(new RegExp(schema.pattern)) : fc.string({ maxLength: 8 });
    case 'array': {
      if (Array.isArray(schema.items)) return fc.tuple(...schema.items.map((s) => valid(s as Schema)));
      const item = schema.items ? valid(schema.items as Schema) : fc.jsonValue();
      return fc.array(item, { minLength: (schema.minItems as number | undefined) ?? 0, maxLength: 3 });
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = (schema.required ?? []) as string[];
      const known = fc.record(
        Object.fromEntries(Object.entries(properties).map(([k, s]) => [k, valid(s)])),
        { requiredKeys: required.filter((k) => k in properties) },
      );
      const extraValue = schema.additionalProperties && typeof schema.additionalProperties === 'object'
        ? valid(schema.additionalProperties as Schema)
        : fc.jsonValue({ maxDepth: 1 });
      const extra = fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !(k in properties) && k !== '__proto__'), extraValue, { maxKeys: 2 });
      return fc.tuple(known, extra).map(([k, e]) => ({ ...e, ...k }));
    }
    default:
      throw new Error(`no arbitrary for type ${type}`);
  }
}

/** An object schema with `oneOf` branches: the base with each branch's properties and required laid over it. */
function branches(schema: Schema): fc.Arbitrary<unknown> {
  const { oneOf, ...base } = schema;
  return fc.oneof(...(oneOf as Schema[]).map((branch) => valid({
    ...base,
    properties: { ...(base.properties as Schema | undefined), ...(branch.properties as Schema | undefined) },
    required: [...((base.required ?? []) as string[]), ...((branch.required ?? []) as string[])],
  })));
}

export function valid(schema: Schema): fc.Arbitrary<unknown> {
  if (Array.isArray(schema.oneOf) && schema.type === 'object') return branches(schema);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if (Array.isArray(schema.anyOf)) return fc.oneof(...(schema.anyOf as Schema[]).map(valid));
  if (schema.instanceof === 'Uint8Array') return bytes;
  if (Array.isArray(schema.type)) return fc.oneof(...(schema.type as string[]).map((t) => typed(t, schema)));
  if (typeof schema.type === 'string') return typed(schema.type, schema);
  return fc.jsonValue({ maxDepth: 2 });
}

/** Every place in a value that can be replaced or removed: paths of keys and indexes. */
function places(value: unknown, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(path);
  if (value instanceof Uint8Array) return out;
  if (Array.isArray(value)) value.forEach((v, i) => places(v, [...path, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) places(v, [...path, k], out);
  return out;
}

function clone(value: unknown): unknown {
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(clone);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]));
  return value;
}

const replacement = fc.oneof(fc.anything({ maxDepth: 1 }), bytes, fc.constant(undefined), fc.string(), fc.integer(), fc.double());

/** A valid value with one place replaced by something else, or removed. */
export function mutated(schema: Schema): fc.Arbitrary<unknown> {
  return valid(schema).chain((value) => {
    const all = places(value);
    return fc.tuple(fc.constantFrom(...all), replacement, fc.boolean()).map(([path, next, remove]) => {
      if (path.length === 0) return next;
      const copy = clone(value) as Record<string | number, unknown>;
      let parent = copy;
      for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
      const last = path[path.length - 1]!;
      if (remove && !Array.isArray(parent)) delete parent[last];
      else parent[last] = next;
      return copy;
    });
  });
}
