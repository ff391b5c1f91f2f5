/** A measured figure for messages and reports: at most two decimals, `NaN` and `±Inf` spelled out. */
export function formatFigure(value: number, unit = ''): string {
  let text: string;
  if (Number.isNaN(value)) text = 'NaN';
  else if (value === Number.POSITIVE_INFINITY) text = '+Inf';
  else if (value === Number.NEGATIVE_INFINITY) text = '-Inf';
  else text = String(Math.round(value * 100) / 100);
  if (!unit) return text;
  return unit === '%' ? `${text}%` : `${text} ${unit}`;
}
