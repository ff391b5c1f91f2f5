import { describe, expect, it } from 'vitest';
import type { ReleaseDetail } from '../engine/release-view.js';
import { gateFigures, progressLine, ProgressBoard, weightBar } from './progress-board.js';

function detail(change: Partial<ReleaseDetail> = {}): ReleaseDetail {
  const step = (index: number, kind: string, weight: number) => ({
    index,
    kind,
    weight,
    traffic: { kind: 'weighted', weights: { stable: 100 - weight, canary: weight } },
    gates: [],
    status: 'pending',
  });
  return {
    id: 'r1',
    definition: 'reviews',
    service: 'reviews',
    namespace: 'bookinfo',
    cluster: 'default',
    image: 'registry.example.com/bookinfo/reviews:1a2b3c4d',
    sha: '1a2b3c4d',
    mr: null,
    state: 'progressing',
    step: 1,
    weights: { stable: 80, canary: 20 },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    phase: 'analysis',
    attempt: 1,
    reason: null,
    endedAt: null,
    steps: [step(0, 'setWeight', 20), step(1, 'analysis', 20), step(2, 'approval', 20), step(3, 'setWeight', 100)],
    gates: [],
    audit: [],
    ...change,
  } as ReleaseDetail;
}

describe('weightBar', () => {
  it.each([
    [0, '[░░░░░░░░░░]   0%'],
    [20, '[██░░░░░░░░]  20%'],
    [55, '[██████░░░░]  55%'],
    [100, '[██████████] 100%'],
    [140, '[██████████] 100%'],
  ])('draws weight %i as %s', (weight, bar) => {
    expect(weightBar(weight, 10)).toBe(bar);
  });
});

describe('progressLine', () => {
  it('shows step i/n, the step kind, state, weight and the latest figures', () => {
    const release = detail({
      gates: [
        { stepIndex: 1, verdict: 'pass', at: '', measurements: [{ name: 'request-success-rate', verdict: 'pass', value: 12, threshold: '>= 99' }] },
        {
          stepIndex: 1,
          verdict: 'fail',
          at: '',
          measurements: [
            { name: 'request-count', verdict: 'pass', value: 240, threshold: '>= 20' },
            { name: 'request-success-rate', verdict: 'fail', value: 70.123, threshold: '>= 99' },
            { name: 'request-duration-p99', verdict: 'pass', value: 118.4, threshold: '<= 500 ms' },
          ],
        },
      ],
    });

    const line = progressLine(release, 'reviews #1');

    expect(line).toBe(
      'reviews #1  step 2/4   analysis   progressing        [████░░░░░░░░░░░░░░░░]  20%  traffic 240 req ✓  success 70.12% ✗  p99 118.4 ms ✓',
    );
  });

  it('counts a release that has not reached its first step as step 0', () => {
    expect(progressLine(detail({ step: -1, state: 'deploying', weights: { stable: 100, canary: 0 } }), 'x')).toMatch(/^x {2}step 0\/4 {3}deploy {5}deploying/);
  });

  it('has no figures before the first check', () => {
    expect(gateFigures(detail())).toBe('');
  });
});

describe('ProgressBoard', () => {
  const output = (isTTY: boolean) => {
    const chunks: string[] = [];
    return { out: { isTTY, write: (text: string) => chunks.push(text) }, chunks };
  };

  it('prints a line per change, and nothing for an unchanged line, when not a TTY', () => {
    const { out, chunks } = output(false);
    const board = new ProgressBoard(out);

    board.update('a', 'one');
    board.update('a', 'one');
    board.update('b', 'two');
    board.update('a', 'three');

    expect(chunks.join('')).toBe('one\ntwo\nthree\n');
    expect(chunks.join('')).not.toContain('\x1b');
  });

  it('redraws the whole block in place on a TTY', () => {
    const { out, chunks } = output(true);
    const board = new ProgressBoard(out);

    board.update('a', 'one');
    board.update('b', 'two');
    chunks.length = 0;
    board.update('a', 'three');

    expect(chunks).toEqual(['\x1b[2F\x1b[0J', '\x1b[2Kthree\n', '\x1b[2Ktwo\n']);
  });

  it('cuts lines to the terminal width on a TTY, so none wraps', () => {
    const chunks: string[] = [];
    const board = new ProgressBoard({ isTTY: true, columns: 6, write: (text: string) => chunks.push(text) });

    board.update('a', 'abcdefghij');

    expect(chunks).toEqual(['\x1b[2Kabcde\n']);
  });

  it('puts notes above the board on a TTY', () => {
    const { out, chunks } = output(true);
    const board = new ProgressBoard(out);
    board.update('a', 'one');
    chunks.length = 0;

    board.note('approved');

    expect(chunks).toEqual(['\x1b[1F\x1b[0J', 'approved\n', '\x1b[2Kone\n']);
  });
});
