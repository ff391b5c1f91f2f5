/** A Prometheus sample value string as a number: "NaN", "+Inf", "-Inf" included; null when it is not a number at all. */
export function parseSampleValue(text: string): number | null {
  const trimmed = text.trim();
  switch (trimmed.toLowerCase()) {
    case 'nan':
      return Number.NaN;
    case '+inf':
    case 'inf':
      return Number.POSITIVE_INFINITY;
    case '-inf':
      return Number.NEGATIVE_INFINITY;
  }
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isNaN(value) ? null : value;
}
