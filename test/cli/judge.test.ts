import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { runJudge } from '../../src/cli/judge.js';

async function judge(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: {} };
  const code = await runJudge(args, io);
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'canarybot-judge-'));
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

// Kayenta ClassifierSuite "High Metric" samples (first ten of each).
const control = [11.1453586774086, 9.9618059885597017, 7.068574306369829, 7.3012661810483657, 9.7944630265656727, 9.6037918603687302, 6.1867793350339388, 12.345599159550174, 10.371891733859533, 8.6094300785016724];
const experiment = [20.878412601720026, 21.78550581191622, 19.70828084717019, 15.859946903461562, 19.510058772176841, 19.392005525270303, 22.926528314912101, 17.156530276709894, 18.655117916226171, 23.422607911610392];

describe('canarybot judge', () => {
  it('prints the pinned JSON object and exits 0 on a high canary', async () => {
    const { code, stdout, stderr } = await judge([file('high.json', { control, experiment }), '-o', 'json']);

    expect(code).toBe(0);
    expect(stderr).toBe('');
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(result)).toEqual(['classification', 'critical', 'interval', 'estimate', 'effectSize']);
    expect(result).toMatchObject({ classification: 'high', critical: false });
    const [lower, upper] = result.interval as [number, number];
    expect(lower).toBeGreaterThan(7);
    expect(upper).toBeLessThan(14);
    expect(result.effectSize).toBeCloseTo(2.157, 3);
    expect(stdout.endsWith('}\n')).toBe(true);
  });

  it('reads YAML with missing values and prints a readable line', async () => {
    const { code, stdout } = await judge(['test/fixtures/judge/slow-canary.yaml']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^high: canary is higher than baseline: shift 2\d(\.\d+)? \[\d+(\.\d+)?, \d+(\.\d+)?\] at 98%, meanRatio 1\.2\d*; canary 15 values, baseline 14 values\n$/);
  });

  it('exits 0 on a pass, a critical low and no data alike', async () => {
    const pass = await judge([file('pass.json', { control, experiment: control }), '-o', 'json']);
    const low = await judge([file('low.yaml', `critical: true\ncontrol: ${JSON.stringify(experiment)}\nexperiment: ${JSON.stringify(control)}\n`), '-o', 'json']);
    const nodata = await judge([file('nodata.json', { control, experiment: ['NaN', null] }), '-o', 'json']);

    expect([pass.code, low.code, nodata.code]).toEqual([0, 0, 0]);
    expect(JSON.parse(pass.stdout)).toEqual({ classification: 'pass', critical: false, interval: null, estimate: null, effectSize: 1 });
    expect(JSON.parse(low.stdout)).toMatchObject({ classification: 'low', critical: true });
    expect(JSON.parse(nodata.stdout)).toEqual({ classification: 'nodata', critical: false, interval: null, estimate: null, effectSize: null });
  });

  it('passes an empty side with nanStrategy replace', async () => {
    const { stdout } = await judge([file('replace.json', { control, experiment: [], nanStrategy: 'replace' }), '-o', 'json']);

    expect(JSON.parse(stdout)).toMatchObject({ classification: 'pass' });
  });

  it.each([
    ['a missing sample', { control }, 'experiment: is required'],
    ['a word among the numbers', { control, experiment: [1, 2, 'lots'] }, 'experiment[2]: must be a number (got "lots")'],
    ['a bad direction', { control, experiment, direction: 'up' }, 'direction: must be increase, decrease or either (got "up")'],
    ['a confidence in percent', { control, experiment, confidence: 98 }, 'confidence: must be between 0 and 1, e.g. 0.98'],
    ['an unknown field', { control, experiment, tolerence: 0.1 }, 'unknown field "tolerence"'],
    ['a CLES above 1', { control, experiment, effectSize: { measure: 'cles', allowedIncrease: 2 } }, 'effectSize.allowedIncrease: a CLES is a probability: at most 1 (got 2)'],
    ['a list instead of a mapping', [1, 2], 'must be a mapping (got a list)'],
  ])('exits 2 on %s with one line naming the field', async (_name, content, message) => {
    const path = file('bad.json', content);

    const { code, stdout, stderr } = await judge([path, '-o', 'json']);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`canarybot judge: ${path}: ${message}\n`);
  });

  it('exits 2 on a file that is not there or not YAML, and on a bad -o', async () => {
    const missing = await judge([join(dir, 'nope.json')]);
    const garbled = await judge([file('garbled.yaml', 'control: [1, 2\n')]);
    const yaml = await judge([file('ok.json', { control, experiment }), '-o', 'yaml']);

    expect(missing).toMatchObject({ code: 2, stderr: `canarybot judge: ${join(dir, 'nope.json')}: cannot read the file (ENOENT)\n` });
    expect(garbled.code).toBe(2);
    expect(garbled.stderr).toMatch(/not valid JSON or YAML/);
    expect(garbled.stderr.trim().split('\n')).toHaveLength(1);
    expect(yaml.code).toBe(2);
  });
});
