// The judge's section of the progress note: the summary score against pass/marginal, then per judged
// metric its classification, the shift's interval and estimate, the effect size and the samples'
// means, and the group scores. Only names and figures: never the queries.

import { latestJudge } from '../core/judge/latest-judge.js';
import type { JudgedMetric } from '../core/judge/judge-analysis.js';
import type { Release } from '../core/release.js';

const CLASSIFICATION: Record<string, string> = { pass: '✅ pass', high: '❌ high', low: '❌ low', nodata: '❔ no data', error: '⚠️ error' };
const SCORE: Record<string, string> = { pass: '✅ passes', marginal: '❔ marginal (inconclusive)', fail: '❌ fails' };

function num(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return String(Number(value.toPrecision(4)));
}

function signed(value: number | null): string {
  const text = num(value);
  return value !== null && value > 0 ? `+${text}` : text;
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\r?\n/g, ' ')}\``;
}

function metricRow(m: JudgedMetric, showConfidence: boolean): string {
  const classification = `${CLASSIFICATION[m.classification] ?? m.classification}${m.critical ? ' (critical)' : ''}`;
  const interval = m.interval ? `[${num(m.interval[0])}, ${num(m.interval[1])}]${showConfidence ? ` at ${num(m.confidence * 100)} %` : ''}` : '—';
  const effect = m.effectSize === null ? '—' : `${m.measure} ${num(m.effectSize)}`;
  const samples = `${num(m.experiment.mean)} / ${num(m.control.mean)} (${m.experiment.count} / ${m.control.count})`;
  return `| ${code(m.name)} | ${m.group} | ${classification} | ${signed(m.estimate)} | ${interval} | ${effect} | ${samples} |`;
}

export function renderJudgeSection(release: Release): string | null {
  const latest = latestJudge(release);
  if (!latest) return null;
  const { judge } = latest.measurement;
  const verdict = latest.measurement.verdict === 'error' ? '⚠️ could not judge' : SCORE[judge.classification] ?? judge.classification;
  const samples = `one sample every ${Math.round(judge.stepMs / 1000)} s over ${Math.round((judge.toMs - judge.fromMs) / 1000)} s`;
  const lines = [
    `**🧮 Judge** (step ${latest.stepIndex + 1}): score **${judge.score}** of 100, ${verdict} (pass ≥ ${judge.thresholds.pass}, marginal ≥ ${judge.thresholds.marginal}) · canary against ${code(judge.against)}, ${samples}`,
  ];
  if (judge.reason) lines.push('', `Score forced to 0: ${judge.reason}.`);
  if (latest.measurement.verdict === 'error' && latest.measurement.message) lines.push('', latest.measurement.message.replace(/\r?\n/g, ' '));
  // The confidence level goes in the header when all metrics share it, else into each interval.
  const levels = new Set(judge.metrics.map((m) => m.confidence));
  const shared = levels.size === 1 ? [...levels][0]! : null;
  lines.push(
    '',
    `| Metric | Group | Classification | Shift (canary − baseline) | ${shared === null ? 'Interval' : `${num(shared * 100)} % interval`} | Effect size | Mean canary / baseline (samples) |`,
    '|---|---|---|---|---|---|---|',
    ...judge.metrics.map((m) => metricRow(m, shared === null)),
  );
  if (judge.groups.length > 1) {
    lines.push('', `Groups: ${judge.groups.map((g) => `${g.name} ${g.noData ? 'no data' : num(g.score)} (weight ${num(g.weight)})`).join(' · ')}`);
  }
  return lines.join('\n');
}
