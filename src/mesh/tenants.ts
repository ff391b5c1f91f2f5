// Which namespaces a definition may release into, by the GitLab project it belongs to. Checked
// before any API call. No tenants file means no restriction. Also the concurrency limits
// (maxConcurrentReleases per tenant and per namespace) the engine's admission applies.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { AdmissionLimits } from '../core/admission.js';
import { CanarybotError } from '../core/errors.js';
import { tenantsFileSchema, type TenantsFile } from './schema.js';

export interface TenantScope {
  namespace: string;
  project: string | number;
}

function sameProject(a: string | number, b: string | number): boolean {
  return String(a).toLowerCase() === String(b).toLowerCase();
}

export class TenantPolicy {
  private constructor(private readonly file: TenantsFile | null) {}

  static unrestricted(): TenantPolicy {
    return new TenantPolicy(null);
  }

  static fromObject(value: unknown, source = 'tenants'): TenantPolicy {
    const parsed = tenantsFileSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join('.') || '<root>';
      throw new CanarybotError('INTERNAL', `${source}: ${where}: ${issue?.message ?? 'invalid'}`);
    }
    return new TenantPolicy(parsed.data);
  }

  /** TENANTS_FILE (YAML) when set; otherwise unrestricted. */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): TenantPolicy {
    const path = env.TENANTS_FILE;
    if (!path) return TenantPolicy.unrestricted();
    return TenantPolicy.fromObject(parse(readFileSync(path, 'utf8')), `TENANTS_FILE ${path}`);
  }

  /** Namespaces the project may release into; null when unrestricted. */
  allowedNamespaces(project: string | number): string[] | null {
    if (!this.file?.tenants) return null;
    return Object.values(this.file.tenants)
      .filter((tenant) => tenant.projects.some((candidate) => sameProject(candidate, project)))
      .flatMap((tenant) => tenant.namespaces);
  }

  /** The tenant whose projects include `project` and whose namespaces include `namespace`, or null. */
  tenantOf(scope: TenantScope): string | null {
    const entry = Object.entries(this.file?.tenants ?? {}).find(([, tenant]) =>
      tenant.namespaces.includes(scope.namespace) && tenant.projects.some((candidate) => sameProject(candidate, scope.project)));
    return entry?.[0] ?? null;
  }

  /** maxConcurrentReleases per namespace and per tenant; null when the file sets none. */
  admissionLimits(): AdmissionLimits | null {
    const namespaces = Object.fromEntries(Object.entries(this.file?.namespaces ?? {}).map(([name, spec]) => [name, spec.maxConcurrentReleases]));
    const tenants = Object.fromEntries(Object.entries(this.file?.tenants ?? {})
      .filter(([, tenant]) => tenant.maxConcurrentReleases !== undefined)
      .map(([name, tenant]) => [name, tenant.maxConcurrentReleases!]));
    return Object.keys(namespaces).length + Object.keys(tenants).length > 0 ? { namespaces, tenants } : null;
  }

  /** Throws TENANT_REFUSED when the project may not release into the namespace. */
  check(scope: TenantScope): void {
    const allowed = this.allowedNamespaces(scope.project);
    if (allowed === null || allowed.includes(scope.namespace)) return;
    const hint = allowed.length > 0 ? `it may release into ${allowed.join(', ')}` : 'it belongs to no tenant in the tenants file';
    throw new CanarybotError('TENANT_REFUSED', `project ${scope.project} may not release into namespace ${scope.namespace}; ${hint}`);
  }
}
