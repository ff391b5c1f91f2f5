import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tenantsFileSchema } from './schema.js';
import { TenantPolicy } from './tenants.js';

const TENANTS_YAML = `
tenants:
  bookinfo:
    namespaces: [bookinfo, bookinfo-staging]
    projects: [bookinfo/reviews, Bookinfo/Ratings]
  payments:
    namespaces: [payments]
    projects: [42]
`;

function fileWith(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'canarybot-tenants-')), 'tenants.yaml');
  writeFileSync(path, text);
  return path;
}

describe('TenantPolicy', () => {
  const policy = TenantPolicy.fromEnvironment({ TENANTS_FILE: fileWith(TENANTS_YAML) });

  const rows: { project: string | number; namespace: string; refusal: string | null }[] = [
    { project: 'bookinfo/reviews', namespace: 'bookinfo', refusal: null },
    { project: 'bookinfo/ratings', namespace: 'bookinfo-staging', refusal: null },
    { project: 42, namespace: 'payments', refusal: null },
    { project: '42', namespace: 'payments', refusal: null },
    { project: 'bookinfo/reviews', namespace: 'payments', refusal: 'project bookinfo/reviews may not release into namespace payments; it may release into bookinfo, bookinfo-staging' },
    { project: 'other/app', namespace: 'bookinfo', refusal: 'project other/app may not release into namespace bookinfo; it belongs to no tenant in the tenants file' },
  ];
  it.each(rows)('$project → $namespace', ({ project, namespace, refusal }) => {
    const run = () => policy.check({ project, namespace });

    if (refusal === null) expect(run).not.toThrow();
    else expect(run).toThrow(expect.objectContaining({ code: 'TENANT_REFUSED', message: refusal }) as Error);
  });

  it('is unrestricted without a tenants file', () => {
    expect(() => TenantPolicy.fromEnvironment({}).check({ project: 'any/thing', namespace: 'kube-system' })).not.toThrow();
  });

  it('refuses a malformed tenants file with the field that is wrong', () => {
    const path = fileWith('tenants:\n  bookinfo:\n    namespaces: bookinfo\n    projects: [a]\n');

    expect(() => TenantPolicy.fromEnvironment({ TENANTS_FILE: path })).toThrow(`TENANTS_FILE ${path}: tenants.bookinfo.namespaces:`);
  });

  it('schema accepts the documented shape and rejects an empty namespace list', () => {
    expect(tenantsFileSchema.safeParse({ tenants: { a: { namespaces: ['a'], projects: ['g/a', 7] } } }).success).toBe(true);
    expect(tenantsFileSchema.safeParse({ tenants: { a: { namespaces: [], projects: ['g/a'] } } }).success).toBe(false);
  });
});
