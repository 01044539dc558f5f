/**
 * The schema vocabulary tsgi adds to JSON Schema, registered on every ajv instance that reads
 * tsgi schemas: the code generator's, and the one tests compile at run time to cross-check the
 * generated guards.
 */
import type { Ajv, KeywordCxt } from 'ajv';
import ajvModule from 'ajv';

const { _, Name } = ajvModule;

/** The `x-asgi` annotation: which protocol a schema belongs to and which way it travels. */
export interface AsgiAnnotation {
  protocol: string;
  role: 'scope' | 'receive' | 'send';
  /** The `scope.extensions` key a server must offer before an app may send this message. */
  extension?: string;
}

const asgiAnnotationSchema = {
  type: 'object',
  required: ['protocol', 'role'],
  additionalProperties: false,
  properties: {
    protocol: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' },
    role: { enum: ['scope', 'receive', 'send'] },
    extension: { type: 'string', minLength: 1 },
  },
};

// A class name becomes code in the generated validator, so only plain identifiers are accepted.
const CLASS_NAME = /^[A-Z][A-Za-z0-9_]*$/;

export function addTsgiVocabulary(ajv: Ajv): Ajv {
  // Annotations: read by the code generator, ignored by validation.
  ajv.addKeyword({ keyword: 'tsType', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-asgi', schemaType: 'object', metaSchema: asgiAnnotationSchema });
  // Byte strings are Uint8Array instances, which JSON Schema has no type for. The keyword
  // emits a plain `instanceof` test, so standalone code needs no runtime import.
  ajv.addKeyword({
    keyword: 'instanceof',
    schemaType: 'string',
    code(cxt: KeywordCxt) {
      const className = cxt.schema as string;
      if (!CLASS_NAME.test(className)) {
        throw new Error(`instanceof: ${JSON.stringify(className)} is not a class name`);
      }
      cxt.fail(_`!(${cxt.data} instanceof ${new Name(className)})`);
    },
    error: {
      message: (cxt) => _`${'must be a ' + String(cxt.schema)}`,
      params: (cxt) => _`{instanceof: ${String(cxt.schema)}}`,
    },
  });
  return ajv;
}

/** ajv options shared by the generator and the tests, so both compile the same validators. */
export const AJV_OPTIONS = {
  strict: true,
  allowUnionTypes: true,
  allErrors: false,
  // Non-unicode regexps and `.length` string lengths keep the standalone code free of imports
  // from ajv's runtime, so generated/ runs without ajv installed.
  unicodeRegExp: false,
} as const;
