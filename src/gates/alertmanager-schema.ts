import { z } from 'zod';

/** GET /api/v2/alerts: only the fields the gate reads. */
export const alertmanagerAlerts = z.array(
  z.object({
    labels: z.record(z.string(), z.string()),
    fingerprint: z.string().optional(),
    startsAt: z.string().optional(),
    status: z.object({ state: z.string() }).optional(),
  }),
);

export type AlertmanagerAlert = z.infer<typeof alertmanagerAlerts>[number];
