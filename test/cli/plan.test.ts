import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { runPlan } from '../../src/cli/plan.js';
import type { CliIo } from '../../src/cli/io.js';

const VS_FILE = 'test/fixtures/plan/reviews-virtual-service.yaml';

async function plan(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env };
  const code = await runPlan(args, io);
  return { code, stdout, stderr };
}

interface Route {
  name?: string;
  route?: Array<{ destination: { host: string; subset?: string }; weight?: number }>;
  [key: string]: unknown;
}

/** The step tables rows: [step, action, stable/canary, routing, min duration, gates]. */
function rows(stdout: string): string[][] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith('----')) + 1;
  const end = lines.indexOf('', start);
  return lines.slice(start, end).map((line) => line.trim().split(/\s{2,}/));
}

describe('canarybot plan', () => {
  it('prints every step of reviews with weights, gates, durations and the total', async () => {
    const { code, stdout } = await plan(['reviews', '--dir', 'pipelines', '--image', 'registry.example.com/bookinfo/reviews:3f2a9c1d']);

    expect(code).toBe(0);
    expect(stdout).toContain('image:  registry.example.com/bookinfo/reviews:3f2a9c1d');
    expect(rows(stdout).map((row) => row.slice(0, 3))).toEqual([
      ['1', 'set weight 5%', '95/5'],
      ['2', 'pause 2m', '95/5'],
      ['3', 'analysis', '95/5'],
      ['4', 'set weight 25%', '75/25'],
      ['5', 'approval', '75/25'],
      ['6', 'set weight 50%', '50/50'],
      ['7', 'analysis for 5m', '50/50'],
      ['8', 'set weight 100%', '0/100'],
    ]);
    expect(rows(stdout)[4]?.[5]).toBe('approval');
    expect(rows(stdout)[2]?.[5]).toMatch(/^analysis ×3 \(request-success-rate ≥ 99/);
    // 4 weight changes × 5s settle + 2m pause + 3 × 30s + 10 × 30s
    expect(stdout).toContain('total minimum release time: 8m50s');
  });

  it.each([
    ['ratings', /A\/B: header x-user-group = beta or cookie user-group=beta → canary/],
    ['productpage', /mirror 50% to canary/],
    ['details', /preview: x-canarybot-preview: true → canary/],
  ])('shows the routing of %s', async (name, routing) => {
    const { code, stdout } = await plan([name], { PIPELINES_DIR: 'pipelines' });

    expect(code).toBe(0);
    expect(stdout).toMatch(routing);
  });

  it('accepts a file instead of a name', async () => {
    const { code, stdout } = await plan(['pipelines/details.yaml']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^details: blueGreen, 4 steps/);
  });

  it('writes only the managed route, and its weights sum to 100 at every step', async () => {
    const original = parse(readFileSync(VS_FILE, 'utf8')) as { spec: { http: Route[] } };

    const { code, stdout, stderr } = await plan(['reviews', '--dir', 'pipelines', '--virtual-service', VS_FILE]);

    expect(stderr).toBe('');
    expect(code).toBe(0);
    const docs = parseAllDocuments(stdout.slice(stdout.indexOf('\n---\n') + 1));
    const objects = (Array.isArray(docs) ? docs : []).map((doc) => doc.toJS() as typeof original);
    expect(objects).toHaveLength(9); // 8 steps + promotion
    const expected = [5, 5, 5, 25, 25, 50, 50, 100, 0];
    objects.forEach((vs, index) => {
      const [jason, primary, ...others] = vs.spec.http;
      expect(others).toEqual([]);
      expect(jason).toEqual(original.spec.http[0]);
      const { route, ...rest } = primary as Route;
      const { route: _originalRoute, ...originalRest } = original.spec.http[1] as Route;
      expect(rest).toEqual(originalRest);
      const weights = (route ?? []).map((dest) => dest.weight ?? 100);
      expect(weights.reduce((a, b) => a + b, 0)).toBe(100);
      const canary = (route ?? []).find((dest) => dest.destination.subset === 'canary')?.weight ?? 0;
      expect(canary).toBe(expected[index]);
      expect({ ...vs, spec: { ...vs.spec, http: undefined } }).toEqual({ ...original, spec: { ...original.spec, http: undefined } });
    });
  });

  it('adds the blue/green preview route until promotion, leaving the managed route at 100/0 before the switch', async () => {
    const { code, stdout, stderr } = await plan(['details', '--dir', 'pipelines', '--virtual-service', 'test/fixtures/plan/details-virtual-service.yaml']);

    expect(stderr).toBe('');
    expect(code).toBe(0);
    const docs = parseAllDocuments(stdout.slice(stdout.indexOf('\n---\n') + 1));
    const objects = (Array.isArray(docs) ? docs : []).map((doc) => doc.toJS() as { spec: { http: Route[] } });
    const summary = objects.map((vs) =>
      vs.spec.http.map((route) => [route.name ?? '-', (route.route ?? []).map((d) => `${d.destination.subset}:${d.weight ?? 100}`).join(',')].join(' ')),
    );
    expect(summary).toEqual([
      ['canarybot-details-preview green:100', '- blue:100'],
      ['canarybot-details-preview green:100', '- blue:100'],
      ['canarybot-details-preview green:100', '- blue:0,green:100'],
      ['canarybot-details-preview green:100', '- blue:0,green:100'],
      ['- blue:100'],
    ]);
    expect(objects[0]?.spec.http[0]?.match).toEqual([{ headers: { 'x-canarybot-preview': { exact: 'true' } } }]);
  });

  it('marks steps that write nothing', async () => {
    const { stdout } = await plan(['reviews', '--dir', 'pipelines', '--virtual-service', VS_FILE]);

    expect(stdout).toContain('# step 1: set weight 5%\n');
    expect(stdout).toContain('# step 2: pause 2m (unchanged, nothing written)\n');
  });

  it('refuses a VirtualService without the managed route', async () => {
    const { code, stderr } = await plan(['ratings', '--dir', 'pipelines', '--virtual-service', VS_FILE]);

    expect(code).toBe(1);
    expect(stderr).toMatch(/^canarybot plan: VirtualService reviews has no http route with a destination host ratings\n$/);
  });

  it.each<[string[], RegExp]>([
    [['nope', '--dir', 'pipelines'], /no definition named "nope" in pipelines \(found: details, productpage, ratings, reviews\)/],
    [[], /expected one definition name or file/],
    [['reviews', '--bogus'], /Unknown option '--bogus'/],
    [['reviews', '--dir', 'pipelines', '--virtual-service', 'missing.yaml'], /cannot read missing.yaml \(ENOENT\)/],
    [['reviews', '--dir', 'pipelines', '--virtual-service', 'pipelines/reviews.yaml'], /holds no object of kind VirtualService/],
  ])('refuses %j', async (args, message) => {
    const { code, stderr } = await plan(args);

    expect(code).toBe(1);
    expect(stderr).toMatch(message);
  });

  it('prints the errors of a bad definition file', async () => {
    const { code, stdout } = await plan(['test/fixtures/pipelines/three-mistakes.yaml']);

    expect(code).toBe(1);
    expect(stdout.trim().split('\n')).toHaveLength(3);
  });

  it('has --help', async () => {
    const { code, stdout } = await plan(['--help']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: canarybot plan <name\|file\|->/);
    expect(stdout).toContain('--virtual-service');
  });
});

describe('canarybot plan: the judge and a baseline', () => {
  it('shows the baseline weights and the judge settings', async () => {
    let stdout = '';
    const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true }, env: {} };

    const code = await runPlan(['test/fixtures/judge/reviews-judged.yaml'], io);

    expect(code).toBe(0);
    expect(stdout).toContain('        baseline reviews-baseline (subset baseline): the stable image at the canary\'s size and weight, for the length of the release');
    expect(stdout).toMatch(/^step +action +stable\/canary\/baseline/m);
    expect(stdout).toMatch(/^ +1 +set weight 10% +80\/10\/10 /m);
    expect(stdout).toMatch(/^ +3 +set weight 50% +0\/50\/50 /m);
    expect(stdout).toContain('request-success-rate ≥ 99, judged (decrease is bad, critical), request-duration-p99 ≤ 500, judged (increase is bad)');
    expect(stdout).toContain('judge: 2 metrics, canary against baseline reviews-baseline, one sample every 15s since the analysis step began');
    expect(stdout).toContain('score >= 90 passes, >= 70 is marginal (inconclusive), below fails; group weights errors 60, latency 40');
    expect(stdout).toContain('request-success-rate: decrease is bad, confidence 0.98, tolerance 0.25, meanRatio >= 1 / <= 1, critical (>= 1 / <= 1 or no data fails at once), group errors');
    expect(stdout).toContain('request-duration-p99: increase is bad, confidence 0.98, tolerance 0.1, meanRatio >= 1 / <= 1, group latency');
  });
});
