/**
 * The predicate compiler behind the `isX` guards, on small schemas that reach the corners the
 * repository's own schemas do not (or not often): each compiled predicate must give ajv's
 * verdict on every value listed, and a keyword it does not know leaves the schema to ajv.
 */
import ajvModule from 'ajv';
import { AJV_OPTIONS, addTsgiVocabulary } from '../../codegen/keywords.js';
import { emitPredicates } from '../../codegen/predicates.js';

/** Loads the emitted module's predicates as functions (the type annotations stripped). */
function load(code: string, names: string[]): Record<string, (value: unknown) => boolean> {
  const js = code.replace('// @ts-nocheck', '').replace(/export const (\w+): \(value: unknown\) => boolean = /g, 'const $1 = ');
  return new Function(`${js}\nreturn { ${names.join(', ')} };`)() as Record<string, (value: unknown) => boolean>;
}

const cases: [string, object, unknown[]][] = [
  ['integers and bounds', { type: 'integer', minimum: 0, maximum: 10 }, [0, 10, 11, -1, 1.5, NaN, Infinity, '3', null]],
  ['numbers', { type: 'number' }, [1.5, NaN, Infinity, -Infinity, 0, '1']],
  ['bounds without a type', { minimum: 3 }, [2, 3, 'x', null, [], {}]],
  ['union types', { type: ['integer', 'null'] }, [1, null, 1.5, undefined, 'a']],
  ['a const and its type', { type: 'string', const: 'x' }, ['x', 'y', 1, null]],
  ['a const of another type', { type: 'integer', const: 1.5 }, [1.5, 1]],
  ['an enum', { enum: ['a', 1, null] }, ['a', 1, null, 'b', 2, undefined]],
  ['a pattern without a type', { pattern: '^a' }, ['abc', 'b', 12, null]],
  ['tuples, short ones allowed', { type: 'array', items: [{ type: 'string' }, { type: 'integer' }] }, [[], ['a'], ['a', 1], ['a', 'b'], [1], ['a', 1, 'extra']]],
  ['tuples of fixed length', { type: 'array', items: [{ type: 'string' }], minItems: 1, maxItems: 1 }, [[], ['a'], ['a', 'b'], [2]]],
  ['array keywords without a type', { items: { type: 'string' }, maxItems: 1 }, [[], ['a'], ['a', 'b'], [1], 'not an array', { length: 5 }]],
  ['objects', { type: 'object', required: ['a'], properties: { a: { type: 'string' }, b: { type: 'boolean' } } }, [{ a: 'x' }, { a: 'x', b: 1 }, { b: true }, { a: undefined }, [], null, { a: 'x', c: 1 }]],
  ['required without properties', { required: ['a'] }, [{ a: 1 }, {}, 'not an object', []]],
  ['additional properties', { type: 'object', properties: { a: {} }, additionalProperties: { type: 'number' } }, [{ a: 'x' }, { a: 'x', b: 1 }, { b: 'y' }, Object.create({ inherited: 'y' })]],
  ['no additional properties', { type: 'object', properties: { a: {} }, additionalProperties: false }, [{ a: 1 }, { b: 1 }, {}]],
  ['anyOf', { anyOf: [{ instanceof: 'Uint8Array' }, { type: 'null' }] }, [new Uint8Array(1), null, Buffer.from('x'), [], undefined]],
];

// Strict types, tuples and required off: ajv would reject schemas that leave a keyword's type implied, which are
// exactly the corners worth checking here; validation itself is the same.
const ajv = addTsgiVocabulary(new ajvModule.default({ ...AJV_OPTIONS, strictTypes: false, strictTuples: false, strictRequired: false }));

test.each(cases)('%s: the predicate gives ajv\'s verdict', (_name, schema, values) => {
  const { code, compiled } = emitPredicates([{ name: 'check', schema }]);
  expect(compiled.has('check')).toBe(true);
  const { check } = load(code, ['check']);
  const reference = ajv.compile(schema);
  for (const value of values) expect([value, check!(value)]).toEqual([value, reference(value)]);
});

test('a keyword the compiler does not know leaves the schema to ajv, and the others still compile', () => {
  const { code, compiled } = emitPredicates([
    { name: 'unknown', schema: { type: 'string', minLength: 2 } },
    { name: 'known', schema: { type: 'string' } },
  ]);
  expect([...compiled]).toEqual(['known']);
  expect(code).not.toContain('function unknown');
  expect(load(code, ['known']).known!('x')).toBe(true);
});
