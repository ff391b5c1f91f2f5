import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unifiedDiff } from './unified-diff.js';

const work = mkdtempSync(join(tmpdir(), 'canarybot-udiff-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const text = (...lines: string[]): string => lines.map((line) => `${line}\n`).join('');
const LABELS = { from: 'a', to: 'b' };

/** GNU diff -u's hunks for the same two texts (its header lines carry file names and times). */
function gnuHunks(before: string, after: string): string {
  writeFileSync(join(work, 'a'), before);
  writeFileSync(join(work, 'b'), after);
  const out = spawnSync('diff', ['-u', join(work, 'a'), join(work, 'b')], { encoding: 'utf8' }).stdout;
  return out.split('\n').slice(2).join('\n');
}

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff(text('a', 'b'), text('a', 'b'), LABELS)).toBe('');
  });

  it.each([
    ['one changed line in the middle', text('1', '2', '3', '4', '5', '6', '7', '8', '9'), text('1', '2', '3', '4', 'five', '6', '7', '8', '9')],
    ['lines added at the end', text('1', '2', '3', '4', '5'), text('1', '2', '3', '4', '5', '6', '7')],
    ['lines added at the start', text('1', '2', '3', '4', '5'), text('0', '1', '2', '3', '4', '5')],
    ['lines removed at the start', text('1', '2', '3', '4', '5'), text('3', '4', '5')],
    ['two changes far apart: two hunks', text(...'abcdefghijklmnopqrst'.split('')), text(...'aBcdefghijklmnopqrsT'.split(''))],
    ['two changes close together: one hunk', text(...'abcdefghij'.split('')), text(...'aBcdefGhij'.split(''))],
    ['from nothing', '', text('x', 'y')],
    ['to nothing', text('x', 'y'), ''],
  ])('prints what diff -u prints for %s', (_, before, after) => {
    const ours = unifiedDiff(before, after, LABELS);

    expect(ours.split('\n').slice(0, 2)).toEqual(['--- a', '+++ b']);
    expect(ours.split('\n').slice(2).join('\n')).toBe(gnuHunks(before, after));
  });

  it('applies with GNU patch for random edits (CANARYBOT_DIFF_CASES, 60 in CI)', () => {
    const cases = Number(process.env.CANARYBOT_DIFF_CASES ?? 60);
    let seed = 17;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let c = 0; c < cases; c++) {
      const before = Array.from({ length: random(30) }, () => `line ${random(8)}`);
      const after = before.flatMap((line) => [[], [line], [line], [`new ${random(8)}`], [line, `added ${random(8)}`]][random(5)]!);
      const file = join(work, 'target');
      writeFileSync(file, text(...before));

      const diff = unifiedDiff(text(...before), text(...after), LABELS);
      if (diff === '') {
        expect(after).toEqual(before);
        continue;
      }
      const result = spawnSync('patch', ['--silent', '--forward', file], { input: diff, encoding: 'utf8' });

      expect(result.status, `${result.stdout}${result.stderr}\n${diff}`).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(text(...after));
    }
  });
});
