import { z } from 'zod';

const maxConcurrentReleases = z.number().int().min(1, 'maxConcurrentReleases must be 1 or more');

/**
 * TENANTS_FILE: which GitLab projects may release into which namespaces (no `tenants`: any), and how
 * many releases may run at once per tenant and per namespace (more queue in arrival order).
 */
export const tenantsFileSchema = z.strictObject({
  tenants: z.record(
    z.string(),
    z.object({
      namespaces: z.array(z.string().min(1)).min(1),
      projects: z.array(z.union([z.string().min(1), z.number().int().positive()])).min(1),
      maxConcurrentReleases: maxConcurrentReleases.optional(),
    }),
  ).optional(),
  namespaces: z.record(z.string().min(1), z.object({ maxConcurrentReleases })).optional(),
});

export type TenantsFile = z.infer<typeof tenantsFileSchema>;

const stringMap = z.record(z.string(), z.string());

/** The parts of a VirtualService the router reads; everything else passes through untouched. */
export const virtualServiceSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), resourceVersion: z.string().optional() }),
  spec: z.looseObject({
    http: z
      .array(
        z.looseObject({
          name: z.string().optional(),
          route: z.array(z.looseObject({ destination: z.looseObject({ host: z.string(), subset: z.string().optional() }) })).optional(),
        }),
      )
      .optional(),
  }),
});

export const destinationRuleSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string() }),
  spec: z.looseObject({
    host: z.string(),
    subsets: z.array(z.looseObject({ name: z.string(), labels: stringMap.optional() })).optional(),
  }),
});

export type DestinationRuleObject = z.infer<typeof destinationRuleSchema>;
