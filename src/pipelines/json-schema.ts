// The JSON Schema of a definition file, generated from the zod schemas that validate it (so it never
// drifts): for the YAML language server (`# yaml-language-server: $schema=…`) and editors. Checks
// that JSON Schema cannot say (cross-field rules, file-to-file references) stay in `validate`.

import { z } from 'zod';
import { definitionSchema } from './schema.js';
import { trainSchema } from './train-schema.js';

export const SCHEMA_ID = 'https://canarybot.dev/schemas/canarybot-v1.json';

/** A `ReleasePipeline` or a `ReleaseTrain` document, as written (the input side of the zod schemas). */
export function definitionJsonSchema(): Record<string, unknown> {
  const options = { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' } as const;
  const pipeline = z.toJSONSchema(definitionSchema, options);
  const train = z.toJSONSchema(trainSchema, options);
  const strip = ({ $schema: _schema, ...rest }: Record<string, unknown>): Record<string, unknown> => rest;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_ID,
    title: 'canarybot release pipeline or release train',
    oneOf: [
      { title: 'ReleasePipeline', ...strip(pipeline) },
      { title: 'ReleaseTrain', ...strip(train) },
    ],
  };
}
