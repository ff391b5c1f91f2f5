import type { JudgeReport } from './judge/judge-analysis.js';

export type Verdict = 'pass' | 'fail' | 'inconclusive' | 'error';

/** The judge's verdict of one check, with what it compared and over which samples. */
export interface JudgeDetails extends JudgeReport {
  /** The workload the canary was compared with: the baseline Deployment, or the stable one. */
  against: string;
  /** The samples' range (epoch ms) and resolution. */
  fromMs: number;
  toMs: number;
  stepMs: number;
  /** The PromQL of each judged metric, for the canary and for the baseline. */
  queries: Record<string, { canary: string; baseline: string }>;
}

/** One metric, alert or webhook measurement with the figures that explain its verdict. */
export interface Measurement {
  /** Metric name, `alert:<name>` or `webhook:<name>`. */
  name: string;
  verdict: Verdict;
  value: number | null;
  /** Human form of the threshold, e.g. `>= 99` or `<= 500 ms`, or `<= stable + 20%`. */
  threshold: string;
  /** The stable workload's value for relative thresholds. */
  stableValue?: number | null;
  query?: string;
  /** One sentence for the report: why it is not a pass, or a truncated webhook body. */
  message?: string;
  /** A failure that fails the whole analysis at once, whatever failureLimit allows (a critical judged metric). */
  critical?: boolean;
  /** The statistical judge's figures (the `judge` measurement only). */
  judge?: JudgeDetails;
}

/** The result of one check (one interval) of a gate step. */
export interface CheckResult {
  verdict: Verdict;
  measurements: Measurement[];
  at: number;
}

const severity: Record<Verdict, number> = { pass: 0, inconclusive: 1, error: 2, fail: 3 };

/** A check passes only when every measurement passes; the worst measurement decides otherwise. */
export function combineVerdicts(measurements: readonly Measurement[]): Verdict {
  if (measurements.length === 0) return 'inconclusive';
  return measurements.reduce<Verdict>(
    (worst, m) => (severity[m.verdict] > severity[worst] ? m.verdict : worst),
    'pass',
  );
}
