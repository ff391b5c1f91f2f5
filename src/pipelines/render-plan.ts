// `canarybot plan` as text: the step table of a definition and, given the current VirtualService, the
// exact object each step would write. The traffic per step comes from the core planner and the
// VirtualService from the mesh's pure edit, so the dry run and the router cannot disagree.

import { stringify } from 'yaml';
import { DEFAULT_ON_FAILURE, type Definition, type MetricCheck, type Step, type TagSource, type TrafficMatch } from '../core/definition.js';
import { DEFAULT_ANALYSIS_JUDGE } from '../core/judge/judge-spec.js';
import { formatDuration } from '../core/duration.js';
import { minimumReleaseMs, planSteps, type PlannedStep } from '../core/plan.js';
import { ALL_STABLE, type TrafficState } from '../core/traffic.js';
import { localTime, windowVerdict } from '../core/windows.js';
import { jsonPatchDiff } from '../mesh/json-patch-diff.js';
import { desiredVirtualService, type VirtualServiceObject } from '../mesh/virtual-service.js';
import { unifiedDiff } from './unified-diff.js';

export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'setWeight':
      return `set weight ${step.weight}%`;
    case 'setMirror':
      return `mirror ${step.percent}%`;
    case 'pause':
      return step.durationMs === undefined ? 'pause until resumed' : `pause ${formatDuration(step.durationMs)}`;
    case 'analysis':
      if (step.durationMs !== undefined) return `analysis for ${formatDuration(step.durationMs)}`;
      return step.count === undefined ? 'analysis' : `analysis ×${step.count}`;
    case 'approval':
      return 'approval';
    case 'webhook':
      return `webhook ${step.name}`;
  }
}

export function describeMatch(block: TrafficMatch): string {
  const parts: string[] = [];
  for (const [name, match] of Object.entries(block.headers ?? {})) parts.push(`header ${name} ${stringMatch(match)}`);
  for (const [name, value] of Object.entries(block.cookies ?? {})) parts.push(`cookie ${name}=${value}`);
  for (const [name, match] of Object.entries(block.queryParams ?? {})) parts.push(`query ${name} ${stringMatch(match)}`);
  return parts.join(' and ');
}

function stringMatch(match: { exact: string } | { prefix: string } | { regex: string }): string {
  if ('exact' in match) return `= ${match.exact}`;
  if ('prefix' in match) return `starts with ${match.prefix}`;
  return `~ ${match.regex}`;
}

/** What the route does besides weights: mirror, A/B match, preview (`-` for none). */
export function describeRouting(traffic: TrafficState): string {
  const parts: string[] = [];
  const both = traffic.weights.baseline !== undefined;
  const to = both ? 'canary and baseline (half each)' : 'canary';
  if (traffic.mirrorPercent > 0) parts.push(`mirror ${traffic.mirrorPercent}% to ${both ? 'canary and baseline' : 'canary'}`);
  if (traffic.abMatch) parts.push(`A/B: ${traffic.abMatch.map(describeMatch).join(' or ')} → ${to}`);
  if (traffic.preview) parts.push(`preview: ${traffic.preview.header}: ${traffic.preview.value} → ${to}`);
  return parts.join('; ') || '-';
}

function tagLabel(tag: TagSource): string {
  return tag.kind === 'variable' ? `<$${tag.name}>` : `<${tag.kind}>`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 || i === 2 || i === 4 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export interface PlanOptions {
  image?: string;
  /** The VirtualService as it is in the cluster; with it, each step's desired object is printed. */
  virtualService?: VirtualServiceObject;
  /** The instant the next allowed start is computed from (default: now). */
  now?: number;
}

/** The definition's release windows and the next instant a release may start (GitLab freezes are read at release time). */
function describeWindows(definition: Definition, now: number): string[] {
  const windows = definition.windows ?? [];
  if (windows.length === 0) return [];
  const verdict = windowVerdict(windows, [], now);
  const next = verdict.open ? `now (${new Date(now).toISOString()})` : verdict.opensAt === null ? 'not within a year' : `${localTime(verdict.opensAt, windows[0]?.timezone ?? 'UTC')} (${new Date(verdict.opensAt).toISOString()})`;
  return [
    'windows (deny wins; GitLab deploy freezes of the project also hold):',
    ...windows.map((window) => `  ${window.kind} "${window.cron}" for ${formatDuration(window.durationMs)} (${window.timezone})`),
    `next allowed start: ${next}`,
  ];
}

/** Every metric any analysis step judges, once each (step metrics override spec.analysis.metrics). */
function judgedMetrics(definition: Definition): MetricCheck[] {
  const lists = [definition.analysis.metrics, ...definition.strategy.steps.map((step) => (step.kind === 'analysis' ? (step.metrics ?? []) : []))];
  const seen = new Map<string, MetricCheck>();
  for (const metric of lists.flat()) if (metric.judge && !seen.has(metric.name)) seen.set(metric.name, metric);
  return [...seen.values()];
}

/** The judge's settings in a few lines: scoring, then one line per judged metric. */
export function describeJudge(definition: Definition): string[] {
  const metrics = judgedMetrics(definition);
  if (metrics.length === 0) return [];
  const judge = definition.analysis.judge ?? DEFAULT_ANALYSIS_JUDGE;
  const baseline = definition.target.baseline;
  const weights = Object.entries(judge.groups).map(([group, weight]) => `${group} ${weight}`);
  const lines = [
    `judge: ${metrics.length} metric${metrics.length === 1 ? '' : 's'}, canary against ${baseline ? `baseline ${baseline.deployment}` : `stable ${definition.target.stable.deployment}`}, one sample every ${formatDuration(judge.stepMs)} since the analysis step began`,
    `       score >= ${judge.thresholds.pass} passes, >= ${judge.thresholds.marginal} is marginal (inconclusive), below fails${weights.length > 0 ? `; group weights ${weights.join(', ')}` : ''}`,
  ];
  for (const metric of metrics) {
    const j = metric.judge!;
    const effect = j.effectSize;
    lines.push(
      `       ${metric.name}: ${j.direction === 'either' ? 'any change' : `${j.direction} is bad`}, confidence ${j.confidence}, tolerance ${j.tolerance}, ${effect.measure} >= ${effect.allowedIncrease} / <= ${effect.allowedDecrease}` +
        `${j.critical ? `, critical (>= ${effect.criticalIncrease} / <= ${effect.criticalDecrease} or no data fails at once)` : ''}${j.mustHaveData ? ', must have data' : ''}` +
        `${j.nanStrategy === 'replace' ? ', NaN as 0' : ''}${j.outliers === 'remove' ? ', outliers removed' : ''}, group ${j.group}`,
    );
  }
  return lines;
}

export function renderPlan(definition: Definition, options: PlanOptions = {}): string {
  const plan = planSteps(definition);
  const { target, trigger, strategy } = definition;
  const image = options.image ?? `${trigger.image}:${tagLabel(trigger.tag)}`;
  const baseline = target.baseline;
  const judge = describeJudge(definition);
  const out: string[] = [
    `${definition.name}: ${strategy.kind}, ${plan.length} steps${definition.file ? ` (${definition.file})` : ''}`,
    `image:  ${image}`,
    `target: ${target.clusters.join(', ')} / ${target.namespace} / VirtualService ${target.virtualService}, route ${target.route ?? `(first to ${target.host})`}`,
    `        stable ${target.stable.deployment} (subset ${target.stable.subset}), canary ${target.canary.deployment} (subset ${target.canary.subset})`,
    ...(baseline
      ? [`        baseline ${baseline.deployment} (subset ${baseline.subset}): the stable image at the canary's size and weight, for the length of the release`]
      : []),
    ...(target.clusters.length > 1 ? [`        clusters in order; on failure: ${onFailureText(definition)}`] : []),
    '',
    `before step 1: deploy ${image} to ${target.canary.deployment}${baseline ? ` and the stable image to ${baseline.deployment}` : ''}, and wait until ready (at most ${formatDuration(target.readinessDeadlineMs)})`,
    '',
    table(
      ['step', 'action', baseline ? 'stable/canary/baseline' : 'stable/canary', 'also routed to canary', 'min. duration', 'gates'],
      plan.map((planned) => [
        String(planned.index + 1),
        describeStep(planned.step),
        `${planned.traffic.weights.stable}/${planned.traffic.weights.canary}${baseline ? `/${planned.traffic.weights.baseline ?? 0}` : ''}`,
        describeRouting(planned.traffic),
        formatDuration(planned.minDurationMs),
        planned.gates.join(', ') || '-',
      ]),
    ),
    '',
    `after the last step: promote (${target.stable.deployment} gets the image, 100% back to stable, ${target.canary.deployment} scaled to 0${baseline ? `, ${baseline.deployment} removed` : ''})`,
    `total minimum release time: ${formatDuration(minimumReleaseMs(plan))} (approvals and pauses without a duration count as 0)`,
    ...(judge.length > 0 ? ['', ...judge] : []),
    ...(definition.windows?.length ? ['', ...describeWindows(definition, options.now ?? Date.now())] : []),
  ];
  if (options.virtualService) out.push('', renderVirtualServices(definition, plan, options.virtualService));
  return `${out.join('\n')}\n`;
}

/** The VirtualService before the first step, then after each step and after promotion, each computed from the one before. */
function virtualServiceSteps(definition: Definition, plan: PlannedStep[], current: VirtualServiceObject): Array<{ label: string; vs: VirtualServiceObject }> {
  const ref = { ...definition.target, service: definition.name };
  const out: Array<{ label: string; vs: VirtualServiceObject }> = [];
  let vs = current;
  for (const planned of plan) {
    vs = desiredVirtualService(vs, ref, planned.traffic);
    out.push({ label: `step ${planned.index + 1}: ${describeStep(planned.step)}`, vs });
  }
  vs = desiredVirtualService(vs, ref, ALL_STABLE);
  out.push({ label: `promoted: all traffic on ${definition.target.stable.deployment} (now running the new image)`, vs });
  return out;
}

/** Each step's VirtualService, each computed from the previous one, as the router would write them. */
function renderVirtualServices(definition: Definition, plan: PlannedStep[], current: VirtualServiceObject): string {
  let before = stringify(current);
  const docs = virtualServiceSteps(definition, plan, current).map(({ label, vs }) => {
    const text = stringify(vs);
    const unchanged = text === before && !label.startsWith('promoted') ? ' (unchanged, nothing written)' : '';
    before = text;
    return `# ${label}${unchanged}\n${text}`;
  });
  return docs.map((doc) => `---\n${doc}`).join('');
}

export type DiffFormat = 'unified' | 'json-patch';
export const DIFF_FORMATS: readonly DiffFormat[] = ['unified', 'json-patch'];

/** The object without metadata.resourceVersion, which the API server sets on every write. */
function withoutVersion(vs: VirtualServiceObject): VirtualServiceObject {
  const { resourceVersion: _version, ...metadata } = vs.metadata;
  return { ...vs, metadata };
}

/**
 * `plan --diff`: what each step changes in the VirtualService against the one before it (the first
 * step against `current`, from `source`), as a unified diff of the YAML or as the RFC 6902 JSON patch
 * the router sends (without its resourceVersion test); steps that change nothing say so.
 */
export function renderVirtualServiceChanges(definition: Definition, current: VirtualServiceObject, format: DiffFormat, source: string): string {
  const name = `VirtualService ${current.metadata.namespace ?? definition.target.namespace}/${current.metadata.name}`;
  const out = [`${name}: what each step changes (${format === 'unified' ? 'unified diff of the YAML' : 'JSON patch, RFC 6902'}), starting from ${source}`];
  let before = withoutVersion(current);
  let beforeLabel = source;
  for (const { label, vs } of virtualServiceSteps(definition, planSteps(definition), current)) {
    const after = withoutVersion(vs);
    const short = label.split(':')[0]!;
    const change =
      format === 'unified'
        ? unifiedDiff(stringify(before), stringify(after), { from: `${name} (${beforeLabel})`, to: `${name} (${short})` })
        : jsonPatchText(before, after);
    out.push('', `# ${label}${change === '' ? ': unchanged, nothing written' : ''}`);
    if (change !== '') out.push(change.trimEnd());
    before = after;
    beforeLabel = short;
  }
  return `${out.join('\n')}\n`;
}

/** One operation per line, so the array can be read and given to `kubectl patch --type json` as is. */
function jsonPatchText(before: VirtualServiceObject, after: VirtualServiceObject): string {
  const ops = jsonPatchDiff(before, after);
  return ops.length === 0 ? '' : `[\n${ops.map((op) => `  ${JSON.stringify(op)}`).join(',\n')}\n]`;
}

/** What a failure does to the clusters already promoted (spec.onFailure). */
function onFailureText(definition: Definition): string {
  return (definition.onFailure ?? DEFAULT_ON_FAILURE) === 'keepPromoted'
    ? 'roll back the failing cluster only; clusters already promoted keep the new image (onFailure: keepPromoted)'
    : 'roll back the failing cluster, then the clusters already promoted, newest first (onFailure: rollback)';
}
