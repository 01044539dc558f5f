/** The repository's schemas, loaded the way the code generator loads them. */
import { fileURLToPath } from 'node:url';
import { loadSchemas, type SchemaFile } from '../../codegen/schemas.js';

export const schemaDir = fileURLToPath(new URL('../../schema', import.meta.url));
export const schemas: SchemaFile[] = loadSchemas(schemaDir, 'schema');
export const schemasById = new Map(schemas.map((s) => [s.id, s]));
