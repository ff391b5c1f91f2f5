// `canarybot schema` checked by an independent validator (Ajv, JSON Schema 2020-12): every shipped
// definition passes, and what the zod schema refuses field by field the JSON Schema refuses too.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runSchema } from '../../src/cli/schema.js';
import type { CliIo } from '../../src/cli/io.js';

const printed: string[] = [];
const io: CliIo = { stdout: { write: (t: string) => printed.push(t) }, stderr: { write: () => undefined }, env: {} };
const exitCode = await runSchema([], io);
const schema = JSON.parse(printed.join('')) as { $schema: string; $id: string; oneOf: { title: string }[] };
const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
const shipped = readdirSync('pipelines').filter((f) => f.endsWith('.yaml')).map((f) => [f, parse(readFileSync(join('pipelines', f), 'utf8')) as Record<string, unknown>] as const);

describe('canarybot schema', () => {
  it.each(shipped)('accepts the shipped %s', (_file, document) => {
    const ok = validate(document);

    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it.each([
    ['an unknown top-level field', (d: Record<string, unknown>) => ({ ...d, extra: 1 })],
    ['another apiVersion', (d: Record<string, unknown>) => ({ ...d, apiVersion: 'canarybot/v2' })],
    ['no spec', ({ spec: _spec, ...d }: Record<string, unknown>) => d],
    ['a misspelt spec field', (d: Record<string, unknown>) => ({ ...d, spec: { ...(d.spec as object), stratgy: {} } })],
  ])('refuses %s', (_what, mutate) => {
    const reviews = shipped.find(([file]) => file === 'reviews.yaml')?.[1];
    if (!reviews) throw new Error('pipelines/reviews.yaml is missing');

    expect(validate(mutate(reviews))).toBe(false);
  });

  it('is JSON Schema 2020-12 with an $id, one branch per kind', () => {
    expect(exitCode).toBe(0);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toMatch(/^https:\/\//);
    expect(schema.oneOf.map((branch) => branch.title)).toEqual(['ReleasePipeline', 'ReleaseTrain']);
  });
});
