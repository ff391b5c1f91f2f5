// The demo's terminal view: one progress line per release (step i/n, state, a bar of the canary
// weight, the latest gate figures). On a TTY the block is redrawn in place; elsewhere (CI logs,
// pipes, tests) a release's line is printed again only when it changed.

import type { ReleaseDetail } from '../engine/release-view.js';
import { formatFigure } from '../gates/format-figure.js';

const BAR_WIDTH = 20;
const UNITS: Record<string, string> = { 'request-success-rate': '%', 'request-duration-p99': 'ms', 'request-count': 'req' };
const SHORT: Record<string, string> = { 'request-success-rate': 'success', 'request-duration-p99': 'p99', 'request-count': 'traffic' };
const MARK: Record<string, string> = { pass: '✓', fail: '✗', inconclusive: '?', error: '!' };

/** `[█████░░░░░░░░░░░░░░░]  25%` */
export function weightBar(canary: number, width = BAR_WIDTH): string {
  const clamped = Math.min(100, Math.max(0, canary));
  const filled = Math.round((clamped / 100) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(Math.round(clamped)).padStart(3)}%`;
}

/** The latest check's figures, e.g. `success 99.8% ✓  p99 121 ms ✓`. */
export function gateFigures(release: Pick<ReleaseDetail, 'gates'>): string {
  const latest = release.gates.at(-1);
  if (!latest) return '';
  return latest.measurements
    .map((m) => {
      const value = m.value === null ? '—' : formatFigure(m.value, UNITS[m.name] ?? '');
      return `${SHORT[m.name] ?? m.name} ${value} ${MARK[m.verdict] ?? m.verdict}`;
    })
    .join('  ');
}

/** One line for a release. */
export function progressLine(release: ReleaseDetail, label: string): string {
  const total = release.steps.length;
  const index = Math.min(Math.max(release.step, 0), Math.max(total - 1, 0));
  const kind = release.step < 0 ? 'deploy' : (release.steps[index]?.kind ?? '');
  const stepText = release.step < 0 ? `step 0/${total}` : `step ${index + 1}/${total}`;
  const figures = gateFigures(release);
  return [label, stepText.padEnd(9), kind.padEnd(9), release.state.padEnd(17), weightBar(release.weights.canary), figures]
    .filter((part) => part !== '')
    .join('  ')
    .trimEnd();
}

export interface BoardOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  /** Terminal width: longer lines are cut on a TTY, since a wrapped line would break the redraw. */
  columns?: number;
}

/** Keeps the latest line of each release and shows them, in the order they first appeared. */
export class ProgressBoard {
  private readonly lines = new Map<string, string>();
  private drawn = 0;

  constructor(private readonly out: BoardOutput) {}

  update(key: string, line: string): void {
    const previous = this.lines.get(key);
    if (previous === line) return;
    this.lines.set(key, line);
    if (this.out.isTTY) this.redraw();
    else this.out.write(`${line}\n`);
  }

  /** A message above the board (on a TTY the board is drawn again below it). */
  note(text: string): void {
    if (!this.out.isTTY) {
      this.out.write(`${text}\n`);
      return;
    }
    this.clear();
    this.out.write(`${text}\n`);
    this.drawn = 0;
    this.redraw();
  }

  /** Leave the board as it is and forget it, so later output goes below. */
  finish(key: string): void {
    if (!this.lines.has(key)) return;
    if (this.out.isTTY) {
      this.clear();
      this.out.write(`${this.lines.get(key)}\n`);
      this.lines.delete(key);
      this.drawn = 0;
      this.redraw();
    } else this.lines.delete(key);
  }

  private clear(): void {
    // Up to the first line of the block, then erase to the end of the screen.
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}F\x1b[0J`);
  }

  private redraw(): void {
    this.clear();
    const block = [...this.lines.values()];
    const width = this.out.columns && this.out.columns > 1 ? this.out.columns - 1 : Infinity;
    for (const line of block) this.out.write(`\x1b[2K${[...line].slice(0, width).join('')}\n`);
    this.drawn = block.length;
  }
}
