import { z } from 'zod';

/** Alertmanager webhook payload, version 4: only what the route reads. */
export const alertmanagerWebhookPayload = z.object({
  version: z.string().optional(),
  status: z.string().optional(),
  receiver: z.string().optional(),
  alerts: z.array(
    z.object({
      status: z.enum(['firing', 'resolved']),
      labels: z.record(z.string(), z.string()),
      annotations: z.record(z.string(), z.string()).optional(),
      startsAt: z.string(),
      endsAt: z.string().optional(),
      fingerprint: z.string().optional(),
    }),
  ),
});

export type AlertmanagerWebhookPayload = z.infer<typeof alertmanagerWebhookPayload>;
