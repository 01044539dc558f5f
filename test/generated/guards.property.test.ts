/**
 * Each generated guard must agree with ajv compiling the original schema at test time: this
 * checks the code generator's own steps (inlined refs, the hot-path rewrites) against ajv.
 */
import ajvModule from 'ajv';
import fc from 'fast-check';
import { inlineRefs } from '../../codegen/guards.js';
import { AJV_OPTIONS, addTsgiVocabulary } from '../../codegen/keywords.js';
import * as generated from '../../generated/index.js';
import type { GuardFailure } from '../../src/index.js';
import { mutated, valid } from '../support/arbitrary.js';
import { schemas, schemasById } from '../support/schemas.js';

const ajv = addTsgiVocabulary(new ajvModule.default({ ...AJV_OPTIONS }));
for (const s of schemas) ajv.addSchema(s.schema, s.id);
const exports = generated as unknown as Record<string, (value: unknown) => unknown>;

describe.each(schemas.map((s) => [s.title, s]))('%s', (_title, s) => {
  const reference = ajv.getSchema(s.id)!;
  const is = exports[`is${s.title}`] as (value: unknown) => boolean;
  const explain = exports[`explain${s.title}`] as (value: unknown) => GuardFailure | null;
  const standalone = inlineRefs(s.schema, s.id, schemasById, [s.id]) as Record<string, unknown>;

  test('accepts every value generated from the schema, as ajv does', () => {
    fc.assert(
      fc.property(valid(standalone), (value) => {
        expect(reference(value)).toBe(true);
        expect(is(value)).toBe(true);
        expect(explain(value)).toBeNull();
      }),
      { numRuns: 400 },
    );
  });

  test('agrees with ajv on mutated values, and explains every rejection', () => {
    let rejected = 0;
    fc.assert(
      fc.property(mutated(standalone), (value) => {
        const expected = reference(value);
        expect(is(value)).toBe(expected);
        const failure = explain(value);
        if (expected) {
          expect(failure).toBeNull();
        } else {
          rejected += 1;
          expect(failure?.path).toEqual(expect.stringMatching(/^(\/[^/]*)*$/));
          expect(failure?.message).toEqual(expect.any(String));
        }
      }),
      { numRuns: 600 },
    );
    // The mutations must actually produce invalid values, or the agreement says little.
    expect(rejected).toBeGreaterThan(0);
  });
});
