import { z } from 'zod';

/** `[ <unix seconds>, "<value>" ]`: Prometheus sends sample values as strings ("NaN", "+Inf" included). */
const sample = z.tuple([z.number(), z.string()]);

export const prometheusQueryResponse = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sample })) }),
      z.object({ resultType: z.literal('scalar'), result: sample }),
      z.object({ resultType: z.literal('matrix'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(sample) })) }),
      z.object({ resultType: z.literal('string'), result: z.unknown() }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() }),
]);

export type PrometheusQueryResponse = z.infer<typeof prometheusQueryResponse>;
