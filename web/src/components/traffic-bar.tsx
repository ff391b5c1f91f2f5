import type { BoardRelease } from '../api.js';

type Traffic = BoardRelease['traffic'];

const PARTS = [
  ['stable', 'stable'],
  ['canary', 'canary'],
  ['baseline', 'baseline'],
] as const;

/** Where live traffic goes, as one bar; the mirror copy is shown beside it (it is not a share). */
export function TrafficBar({ traffic }: { traffic: Traffic }) {
  const shown = PARTS.filter(([key]) => traffic[key] > 0);
  const label = [...shown.map(([key, word]) => `${word} ${traffic[key]} %`), ...(traffic.mirror > 0 ? [`mirror ${traffic.mirror} %`] : [])].join(', ');
  return (
    <div class="traffic" role="img" aria-label={`Traffic: ${label}`} title={label}>
      <div class="traffic-bar">
        {shown.map(([key]) => (
          <span key={key} class={`traffic-part ${key}`} style={{ width: `${traffic[key]}%` }}>
            {traffic[key] >= 12 ? `${traffic[key]}%` : ''}
          </span>
        ))}
      </div>
      <div class="traffic-legend" aria-hidden="true">
        {shown.map(([key, word]) => (
          <span key={key} class={`legend ${key}`}>
            {word} {traffic[key]}%
          </span>
        ))}
        {traffic.mirror > 0 ? <span class="legend mirror">mirror {traffic.mirror}%</span> : null}
      </div>
    </div>
  );
}
