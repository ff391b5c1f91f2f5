import type { JudgeDetails, Measurement } from '../gate.js';
import type { Release } from '../release.js';

export interface LatestJudge {
  stepIndex: number;
  at: number;
  measurement: Measurement & { judge: JudgeDetails };
}

/** The judge's most recent verdict on a release (from its last check that has one), or null. */
export function latestJudge(release: Pick<Release, 'gates'>): LatestJudge | null {
  for (let i = release.gates.length - 1; i >= 0; i--) {
    const gate = release.gates[i]!;
    const measurement = gate.check.measurements.find((m) => m.judge !== undefined);
    if (measurement) return { stepIndex: gate.stepIndex, at: gate.check.at, measurement: measurement as LatestJudge['measurement'] };
  }
  return null;
}
