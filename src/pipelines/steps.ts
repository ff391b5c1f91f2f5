// Steps of a strategy. Each step is a mapping with exactly one key; which keys are allowed depends on
// the strategy (setMirror only in `mirror`, no weights in `abTest`, 0 or 100 in `blueGreen`).

import { z } from 'zod';
import type { Step } from '../core/definition.js';
import { duration, httpUrl, percentage, text, wholeNumber } from './fields.js';
import { metricListSchema } from './metrics.js';

export const STEP_KINDS = ['setWeight', 'setMirror', 'pause', 'analysis', 'approval', 'webhook'] as const;
export type StepKind = (typeof STEP_KINDS)[number];
export type StrategyKind = 'canary' | 'abTest' | 'mirror' | 'blueGreen';

/** `- approval:` with nothing after it is YAML null; read it as `{}`. */
const emptyIsObject = (value: unknown) => (value === null ? {} : value);

const stepFields = {
  setWeight: percentage.optional(),
  setMirror: percentage.optional(),
  pause: z.preprocess(emptyIsObject, z.strictObject({ duration: duration().optional() })).optional(),
  analysis: z
    .preprocess(
      emptyIsObject,
      z.strictObject({ duration: duration().optional(), count: wholeNumber(1).optional(), metrics: metricListSchema.optional() }),
    )
    .optional(),
  approval: z.preprocess(emptyIsObject, z.strictObject({})).optional(),
  webhook: z
    .strictObject({
      name: text,
      url: httpUrl,
      timeout: duration().default(10_000),
      bearerEnv: z
        .string()
        .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name such as RELEASE_GATE_TOKEN')
        .optional(),
    })
    .optional(),
};

const stepObject = z.strictObject(stepFields);
type StepFields = z.output<typeof stepObject>;

const NOT_ALLOWED: Record<StrategyKind, Partial<Record<StepKind, string>>> = {
  canary: { setMirror: 'setMirror is only allowed in the mirror strategy' },
  abTest: {
    setWeight: 'abTest sends matching requests to the canary; setWeight does not apply (use the canary strategy)',
    setMirror: 'setMirror is only allowed in the mirror strategy',
  },
  mirror: {},
  blueGreen: { setMirror: 'setMirror is only allowed in the mirror strategy' },
};

function toStep(fields: StepFields): Step {
  if (fields.setWeight !== undefined) return { kind: 'setWeight', weight: fields.setWeight };
  if (fields.setMirror !== undefined) return { kind: 'setMirror', percent: fields.setMirror };
  if (fields.pause !== undefined) {
    return fields.pause.duration === undefined ? { kind: 'pause' } : { kind: 'pause', durationMs: fields.pause.duration };
  }
  if (fields.analysis !== undefined) {
    const step: Step = { kind: 'analysis' };
    if (fields.analysis.duration !== undefined) step.durationMs = fields.analysis.duration;
    if (fields.analysis.count !== undefined) step.count = fields.analysis.count;
    if (fields.analysis.metrics !== undefined) step.metrics = fields.analysis.metrics;
    return step;
  }
  if (fields.webhook !== undefined) {
    const { name, url, timeout, bearerEnv } = fields.webhook;
    return bearerEnv === undefined
      ? { kind: 'webhook', name, url, timeoutMs: timeout }
      : { kind: 'webhook', name, url, timeoutMs: timeout, bearerEnv };
  }
  return { kind: 'approval' };
}

function stepSchema(strategy: StrategyKind) {
  return stepObject
    .superRefine((fields, ctx) => {
      const present = STEP_KINDS.filter((kind) => fields[kind] !== undefined);
      if (present.length !== 1) {
        const found = present.length === 0 ? 'none' : present.join(' and ');
        ctx.addIssue({ code: 'custom', path: [], message: `a step has exactly one of ${STEP_KINDS.join(', ')} (found ${found})` });
        return;
      }
      const kind = present[0] as StepKind;
      const refusal = NOT_ALLOWED[strategy][kind];
      if (refusal) ctx.addIssue({ code: 'custom', path: [kind], message: refusal });
      if (strategy === 'blueGreen' && kind === 'setWeight' && fields.setWeight !== 0 && fields.setWeight !== 100) {
        ctx.addIssue({
          code: 'custom',
          path: ['setWeight'],
          message: `blueGreen switches all traffic at once: setWeight must be 0 or 100 (got ${fields.setWeight})`,
        });
      }
    })
    .transform(toStep);
}

/** The steps of one strategy (how they must end is checked with the target: `endProblem`). */
export function stepsSchema(strategy: StrategyKind) {
  return z.array(stepSchema(strategy)).min(1, 'must list at least one step');
}

/**
 * Weighted strategies must end at full weight or with a human's approval. Full weight is 100 %, or
 * 50 % with a baseline (which takes as much as the canary).
 */
export function endProblem(strategy: StrategyKind, steps: readonly Step[], fullWeight = 100): string | null {
  const weights = steps.filter((step) => step.kind === 'setWeight');
  if (strategy !== 'canary' && !(strategy === 'mirror' && weights.length > 0)) return null;
  if (steps[steps.length - 1]?.kind === 'approval') return null;
  const last = weights[weights.length - 1];
  if (last?.weight === fullWeight) return null;
  const what = last ? `the last setWeight is ${last.weight}` : 'no step sets a weight';
  return `${what}: end with setWeight: ${fullWeight}, or with an approval step so that a person promotes explicitly`;
}
