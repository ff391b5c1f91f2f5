import type { ReleasePage } from '../api.js';
import { linearScale, linePath, newVersionShare, niceTicks, stepPath, thresholdLimit, valueDomain, type Point } from '../chart.js';
import { clock, figure } from '../format.js';

const W = 640;
const H = 200;
const M = { top: 12, right: 16, bottom: 28, left: 48 };

interface Line {
  name: string;
  className: string;
  points: Point[];
  stepped?: boolean;
}

interface ChartProps {
  title: string;
  lines: Line[];
  from: number;
  to: number;
  domain: [number, number];
  limits?: Array<{ value: number; label: string }>;
  unit?: string;
}

/** A small time chart as inline SVG (no chart library): lines, limits drawn dashed, a legend, and a text alternative. */
export function TimeChart({ title, lines, from, to, domain, limits = [], unit = '' }: ChartProps) {
  const x = linearScale([from, to], [M.left, W - M.right]);
  const y = linearScale(domain, [H - M.bottom, M.top]);
  const yTicks = niceTicks(domain[0], domain[1], 4);
  const xTicks = [from, from + (to - from) / 2, to];
  const summary = lines
    .map((line) => {
      const values = line.points.filter((p) => p.v !== null);
      const last = values.at(-1);
      return `${line.name}: ${values.length} points${last ? `, last ${figure(last.v)}${unit}` : ''}`;
    })
    .join('; ');
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}. ${summary}${limits.length ? `; limit ${limits.map((l) => l.label).join(', ')}` : ''}`}>
        {yTicks.map((tick) => (
          <g key={`y${tick}`} class="tick">
            <line x1={M.left} x2={W - M.right} y1={y(tick)} y2={y(tick)} />
            <text x={M.left - 6} y={y(tick) + 4} text-anchor="end">
              {figure(tick)}
            </text>
          </g>
        ))}
        {xTicks.map((tick) => (
          <text key={`x${tick}`} class="tick" x={x(tick)} y={H - 8} text-anchor="middle">
            {clock(new Date(tick).toISOString())}
          </text>
        ))}
        {limits.map((limit) => (
          <g key={`l${limit.value}`} class="limit">
            <line x1={M.left} x2={W - M.right} y1={y(limit.value)} y2={y(limit.value)} />
            <text x={W - M.right} y={y(limit.value) - 4} text-anchor="end">
              {limit.label}
            </text>
          </g>
        ))}
        {lines.map((line) => (
          <path key={line.name} class={`series ${line.className}`} d={line.stepped ? stepPath(line.points, x, y, to) : linePath(line.points, x, y)} />
        ))}
        {lines.flatMap((line) =>
          line.stepped
            ? []
            : line.points
                .filter((p) => p.v !== null)
                .map((p) => <circle key={`${line.name}${p.t}`} class={`dot ${line.className}`} cx={x(p.t)} cy={y(p.v as number)} r={2.5} />),
        )}
      </svg>
      <ul class="chart-legend">
        {lines.map((line) => (
          <li key={line.name} class={line.className}>
            {line.name}
          </li>
        ))}
        {limits.length > 0 ? <li class="limit">threshold</li> : null}
      </ul>
    </figure>
  );
}

function span(page: ReleasePage): [number, number] {
  const from = Date.parse(page.createdAt);
  const to = Math.max(from + 1_000, Date.parse(page.endedAt ?? page.updatedAt));
  return [from, to];
}

/** The new version's share of traffic (stepped) and the success rate over the release. */
export function WeightChart({ page }: { page: ReleasePage }) {
  const [from, to] = span(page);
  const promoting = page.state === 'succeeded' ? page.audit.find((entry) => entry.action === 'promoting') : undefined;
  const weight = newVersionShare(
    [{ t: from, v: 0 }, ...page.timeline.map((p) => ({ t: Date.parse(p.at), v: p.canaryWeight }))],
    promoting ? Date.parse(promoting.at) : null,
  );
  const success: Point[] = page.timeline.map((p) => ({ t: Date.parse(p.at), v: p.successRate }));
  const lines: Line[] = [{ name: 'new version %', className: 'canary', points: weight, stepped: true }];
  if (success.some((p) => p.v !== null)) lines.push({ name: 'success rate %', className: 'success', points: success });
  return <TimeChart title="Traffic to the new version" lines={lines} from={from} to={to} domain={[0, 100]} unit=" %" />;
}

/** Each analysed metric over the checks: the canary, the stable/baseline value where it was measured, the threshold. */
export function MetricCharts({ page }: { page: ReleasePage }) {
  const [from, to] = span(page);
  const names = [...new Set(page.gates.flatMap((g) => g.measurements.map((m) => m.name)))].filter(
    (name) => !name.startsWith('alert:') && !name.startsWith('webhook:') && name !== 'judge',
  );
  return (
    <>
      {names.map((name) => {
        const samples = page.gates.flatMap((g) => g.measurements.filter((m) => m.name === name).map((m) => ({ at: Date.parse(g.at), m })));
        const canary: Point[] = samples.map(({ at, m }) => ({ t: at, v: m.value }));
        const baseline: Point[] = samples.map(({ at, m }) => ({ t: at, v: m.stableValue ?? null }));
        const threshold = samples.at(-1)?.m.threshold ?? '';
        const limit = thresholdLimit(threshold);
        const lines: Line[] = [{ name: 'canary', className: 'canary', points: canary }];
        if (baseline.some((p) => p.v !== null)) lines.push({ name: page.traffic.baseline > 0 ? 'baseline' : 'stable', className: 'baseline', points: baseline });
        const domain = valueDomain([...canary, ...baseline].map((p) => p.v), limit ? [limit.value] : []);
        return (
          <TimeChart
            key={name}
            title={`${name} (${threshold || 'no threshold'})`}
            lines={lines}
            from={from}
            to={to}
            domain={domain}
            limits={limit ? [{ value: limit.value, label: threshold }] : []}
          />
        );
      })}
    </>
  );
}

/** The judge's score at each judged check against its pass and marginal thresholds. */
export function JudgeChart({ page }: { page: ReleasePage }) {
  const [from, to] = span(page);
  const points: Point[] = page.gates.flatMap((g) => g.measurements.filter((m) => m.judge).map((m) => ({ t: Date.parse(g.at), v: m.judge?.score ?? null })));
  if (points.length === 0 || !page.judge) return null;
  const { pass, marginal } = page.judge.thresholds;
  return (
    <TimeChart
      title="Judge score"
      lines={[{ name: 'score', className: 'canary', points }]}
      from={from}
      to={to}
      domain={[0, 100]}
      limits={[
        { value: pass, label: `pass ≥ ${pass}` },
        { value: marginal, label: `marginal ≥ ${marginal}` },
      ]}
    />
  );
}
