/** The `wait` kind and phase of a held release (hold.ts sets them; a rollback ends them). */
export const HOLD_WAIT = 'hold';
export const HELD_PHASE = 'held';

/** A held release: paused in phase `held` after a failed gate or a firing alert. */
export function isHeld(release: { state: string; phase: string }): boolean {
  return release.state === 'paused' && release.phase === HELD_PHASE;
}
