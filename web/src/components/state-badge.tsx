import { stateTone, stateWord } from '../format.js';

export function StateBadge({ state }: { state: string }) {
  return <span class={`badge ${stateTone(state)}`}>{stateWord(state)}</span>;
}
