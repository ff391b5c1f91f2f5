import type { BoardRelease } from '../api.js';
import { figure } from '../format.js';

type Gate = NonNullable<BoardRelease['lastGate']>;

/** The last check's figures against their thresholds: `request-success-rate 99.2 (>= 99) pass`. */
export function GateFigures({ gate }: { gate: Gate | null }) {
  if (!gate) return <p class="muted">No check yet.</p>;
  return (
    <ul class="figures" aria-label={`Last check (step ${gate.stepIndex + 1}): ${gate.verdict}`}>
      {gate.measurements.map((m) => (
        <li key={m.name} class={`figure ${m.verdict}`}>
          <span class="figure-name">{m.name}</span> <strong class="figure-value">{figure(m.value)}</strong>{' '}
          <span class="figure-threshold">{m.threshold}</span> <span class={`verdict ${m.verdict}`}>{m.verdict}</span>
          {m.message && m.verdict !== 'pass' ? <span class="figure-message"> — {m.message}</span> : null}
        </li>
      ))}
    </ul>
  );
}
