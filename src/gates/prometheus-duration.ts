const UNITS: ReadonlyArray<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/** Milliseconds as a Prometheus duration (`1m`, `30s`, `1m30s`, `250ms`) for range selectors. */
export function formatPromDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new RangeError(`not a positive whole number of milliseconds: ${ms}`);
  let rest = ms;
  let out = '';
  for (const [unit, size] of UNITS) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  if (rest > 0) out += `${rest}ms`;
  return out;
}
