// When each step started and how long it took, read from the audit log (every entry names the step
// it was written on).

export interface StepTiming {
  startedAt: number;
  /** null while the step is running. */
  endedAt: number | null;
  ms: number;
}

export function stepTimings(
  audit: Array<{ at: string; stepIndex: number | null }>,
  release: { step: number; endedAt: string | null },
  now: number,
): Map<number, StepTiming> {
  const starts = new Map<number, number>();
  for (const entry of audit) {
    if (entry.stepIndex === null || entry.stepIndex < 0) continue;
    const at = Date.parse(entry.at);
    const known = starts.get(entry.stepIndex);
    if (known === undefined || at < known) starts.set(entry.stepIndex, at);
  }
  const ordered = [...starts.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  const ended = release.endedAt === null ? null : Date.parse(release.endedAt);
  const timings = new Map<number, StepTiming>();
  ordered.forEach(([index, startedAt], i) => {
    const next = ordered[i + 1]?.[1];
    const endedAt = next ?? ended ?? (index === release.step ? null : startedAt);
    timings.set(index, { startedAt, endedAt, ms: (endedAt ?? now) - startedAt });
  });
  return timings;
}
