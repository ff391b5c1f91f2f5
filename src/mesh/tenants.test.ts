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

describe('concurrency limits in the tenants file', () => {
  const policy = TenantPolicy.fromObject({
    tenants: {
      bookinfo: { namespaces: ['bookinfo', 'bookinfo-staging'], projects: ['bookinfo/reviews'], maxConcurrentReleases: 3 },
      payments: { namespaces: ['payments'], projects: [42] },
    },
    namespaces: { bookinfo: { maxConcurrentReleases: 2 } },
  });

  it('reads maxConcurrentReleases per tenant and per namespace', () => {
    expect(policy.admissionLimits()).toEqual({ namespaces: { bookinfo: 2 }, tenants: { bookinfo: 3 } });
  });

  it.each([
    [{ project: 'Bookinfo/Reviews', namespace: 'bookinfo-staging' }, 'bookinfo'],
    [{ project: 42, namespace: 'payments' }, 'payments'],
    [{ project: 42, namespace: 'bookinfo' }, null],
  ])('tenantOf(%j) is %s', (scope, tenant) => {
    expect(policy.tenantOf(scope)).toBe(tenant);
  });

  it('namespace limits alone restrict no project', () => {
    const limitsOnly = TenantPolicy.fromObject({ namespaces: { shop: { maxConcurrentReleases: 1 } } });

    expect(() => limitsOnly.check({ project: 'any/thing', namespace: 'shop' })).not.toThrow();
    expect(limitsOnly.admissionLimits()).toEqual({ namespaces: { shop: 1 }, tenants: {} });
    expect(TenantPolicy.fromObject({ tenants: { a: { namespaces: ['a'], projects: ['g/a'] } } }).admissionLimits()).toBeNull();
  });

  it.each([
    [{ namespaces: { shop: { maxConcurrentReleases: 0 } } }, 'tenants: namespaces.shop.maxConcurrentReleases: maxConcurrentReleases must be 1 or more'],
    [{ namespace: { shop: { maxConcurrentReleases: 1 } } }, 'tenants: <root>: Unrecognized key: "namespace"'],
  ])('refuses %j with the field that is wrong', (file, message) => {
    expect(() => TenantPolicy.fromObject(file)).toThrow(message);
  });
});
