// How figures, times and durations read on the dashboard.

/** `42s`, `5m 02s`, `2h 05m`, `3d 4h`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Age of an ISO time, as `kubectl get` prints it. */
export function age(iso: string, now: number): string {
  return duration(now - Date.parse(iso));
}

/** A measured value with at most 3 significant decimals; `no data` for null. */
export function figure(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'no data';
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  return String(Number(value.toFixed(digits)));
}

/** `14:05:09` in the viewer's time zone. */
export function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** `2026-01-02 14:05` in the viewer's time zone. */
export function dateTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const STATE_WORDS: Record<string, string> = {
  pending: 'pending',
  deploying: 'deploying',
  progressing: 'progressing',
  paused: 'paused',
  'awaiting-approval': 'awaiting approval',
  promoting: 'promoting',
  'rolling-back': 'rolling back',
  succeeded: 'promoted',
  'rolled-back': 'rolled back',
  failed: 'failed',
  superseded: 'superseded',
  aborted: 'aborted',
};

export function stateWord(state: string): string {
  return STATE_WORDS[state] ?? state;
}

/** Good, bad or neutral, for the colour of a state badge. */
export function stateTone(state: string): 'good' | 'bad' | 'wait' | 'busy' | 'neutral' {
  if (state === 'succeeded') return 'good';
  if (state === 'rolled-back' || state === 'failed' || state === 'aborted' || state === 'rolling-back') return 'bad';
  if (state === 'awaiting-approval' || state === 'paused') return 'wait';
  if (state === 'superseded') return 'neutral';
  return 'busy';
}
