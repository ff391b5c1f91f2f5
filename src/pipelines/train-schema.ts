// `kind: ReleaseTrain` as written in pipelines/*.yaml, validated and normalized into the
// TrainDefinition. Checks that need the other files (members exist, share clusters and namespace,
// belong to one train only) are in train-checks.ts.

import { z } from 'zod';
import type { TrainDefinition, TrainEntry, TrainStep } from '../core/train/train-definition.js';
import { duration, kubernetesName, percentage, shown, wholeNumber } from './fields.js';
import { HEADER_NAME, matchSchema } from './schema.js';

const emptyIsObject = (value: unknown) => (value === null ? {} : value);

const TRAIN_STEP_KINDS = ['setWeight', 'pause', 'analysis', 'approval'] as const;

const trainStepSchema = z
  .strictObject({
    setWeight: percentage.optional(),
    pause: z.preprocess(emptyIsObject, z.strictObject({ duration: duration().optional() })).optional(),
    analysis: z.preprocess(emptyIsObject, z.strictObject({ duration: duration().optional(), count: wholeNumber(1).optional() })).optional(),
    approval: z.preprocess(emptyIsObject, z.strictObject({})).optional(),
  })
  .superRefine((fields, ctx) => {
    const present = TRAIN_STEP_KINDS.filter((kind) => fields[kind] !== undefined);
    if (present.length !== 1) {
      const found = present.length === 0 ? 'none' : present.join(' and ');
      ctx.addIssue({ code: 'custom', message: `a train step has exactly one of ${TRAIN_STEP_KINDS.join(', ')} (found ${found})` });
    }
  })
  .transform((fields): TrainStep => {
    if (fields.setWeight !== undefined) return { kind: 'setWeight', weight: fields.setWeight };
    if (fields.pause !== undefined) return fields.pause.duration === undefined ? { kind: 'pause' } : { kind: 'pause', durationMs: fields.pause.duration };
    if (fields.analysis !== undefined) {
      const step: TrainStep = { kind: 'analysis' };
      if (fields.analysis.duration !== undefined) step.durationMs = fields.analysis.duration;
      if (fields.analysis.count !== undefined) step.count = fields.analysis.count;
      return step;
    }
    return { kind: 'approval' };
  });

const laneSchema = z.strictObject({
  header: z.string().regex(HEADER_NAME, 'must be a lowercase header name (Istio matches lowercase)').default('x-canary-lane'),
  value: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, ".", "_" or "-" (it travels in a header and in W3C baggage)')
    .optional(),
  baggage: z.boolean().default(false),
});

const entrySchema = z
  .strictObject({
    member: kubernetesName,
    cohort: z.array(matchSchema).min(1, 'a cohort needs at least one match block').optional(),
    weight: wholeNumber(1, 100).optional(),
  })
  .superRefine((entry, ctx) => {
    if ((entry.cohort === undefined) === (entry.weight === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'needs exactly one of cohort (match blocks, as in abTest) or weight (a share of all requests)' });
    }
  })
  .transform((entry): TrainEntry => {
    if (entry.cohort !== undefined) return { member: entry.member, kind: 'cohort', cohort: entry.cohort };
    return { member: entry.member, kind: 'weight', weight: entry.weight ?? 0 };
  });

const analysisSchema = z
  .strictObject({
    interval: duration().default(30_000),
    count: wholeNumber(1).default(3),
    failureLimit: wholeNumber(0).default(0),
    inconclusiveLimit: wholeNumber(0).default(3),
  })
  .prefault({})
  .transform((analysis) => ({
    intervalMs: analysis.interval,
    count: analysis.count,
    failureLimit: analysis.failureLimit,
    inconclusiveLimit: analysis.inconclusiveLimit,
  }));

const specSchema = z
  .strictObject({
    members: z.array(kubernetesName).min(2, 'a train has at least two members (one service is a ReleasePipeline)'),
    lane: laneSchema.prefault({}),
    entry: entrySchema,
    steps: z.array(trainStepSchema).min(1, 'must list at least one step'),
    analysis: analysisSchema,
    promote: z.enum(['ordered', 'together']).default('ordered'),
    assembleWindow: duration().default(30 * 60_000),
  })
  .superRefine((spec, ctx) => {
    const duplicate = spec.members.find((member, index) => spec.members.indexOf(member) !== index);
    if (duplicate !== undefined) ctx.addIssue({ code: 'custom', path: ['members'], message: `lists "${duplicate}" twice` });
    const entry = spec.entry as Partial<TrainEntry>;
    if (typeof entry.member === 'string' && Array.isArray(spec.members) && spec.members[0] !== entry.member) {
      const where = spec.members.includes(entry.member) ? `it is member ${spec.members.indexOf(entry.member) + 1}` : 'it is not a member';
      ctx.addIssue({
        code: 'custom',
        path: ['entry', 'member'],
        message: `the entry is where the call chain starts, so it must be the first of members (${where}: ${shown(entry.member)})`,
      });
    }
    if (!Array.isArray(spec.steps)) return;
    spec.steps.forEach((step, index) => {
      if (step?.kind === 'setWeight' && entry.kind === 'cohort') {
        ctx.addIssue({ code: 'custom', path: ['steps', index, 'setWeight'], message: 'the entry is a cohort (match blocks); setWeight applies to an entry by weight' });
      }
      if (step?.kind === 'analysis' && step.durationMs !== undefined && typeof spec.analysis?.intervalMs === 'number' && step.durationMs < spec.analysis.intervalMs) {
        ctx.addIssue({ code: 'custom', path: ['steps', index, 'analysis', 'duration'], message: 'is shorter than spec.analysis.interval, so no check would run' });
      }
    });
  });

export const trainSchema = z
  .strictObject({
    apiVersion: z.literal('canarybot/v1', { error: (issue) => `must be canarybot/v1 (got ${shown(issue.input)})` }),
    kind: z.literal('ReleaseTrain'),
    metadata: z.strictObject({
      name: kubernetesName,
      labels: z.record(z.string(), z.string()).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    }),
    spec: specSchema,
  })
  .transform(
    ({ metadata, spec }): TrainDefinition => ({
      name: metadata.name,
      members: spec.members,
      lane: { header: spec.lane.header, value: spec.lane.value ?? metadata.name, baggage: spec.lane.baggage },
      entry: spec.entry,
      steps: spec.steps,
      analysis: spec.analysis,
      promote: spec.promote,
      assembleWindowMs: spec.assembleWindow,
    }),
  );

