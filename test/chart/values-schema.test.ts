import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const chart = new URL('../../charts/canarybot/', import.meta.url);
const schema = JSON.parse(readFileSync(new URL('values.schema.json', chart), 'utf8')) as object;
const values = parse(readFileSync(new URL('values.yaml', chart), 'utf8')) as Record<string, unknown>;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

describe('chart values.schema.json', () => {
  it('accepts the chart’s own values.yaml', () => {
    const ok = validate(values);

    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it.each([
    ['a replica count of zero', { replicaCount: 0 }],
    ['an unknown top-level key', { replicas: 2 }],
    ['a redis URL that is not redis://', { config: { ...(values.config as object), redisUrl: 'http://redis' } }],
    ['a missing GitLab token key', { secrets: { existingSecret: 's', keys: { GITLAB_WEBHOOK_SECRET: 'x' } } }],
    ['an RBAC namespace that is not a DNS label', { rbac: { create: true, namespaces: ['Book_Info'] } }],
  ])('refuses %s', (_name, override) => {
    expect(validate({ ...values, ...override })).toBe(false);
  });
});
