import { describe, expect, it } from 'vitest';
import { runValidate } from '../../src/cli/validate.js';
import type { CliIo } from '../../src/cli/io.js';

async function validate(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env };
  const code = await runValidate(args, io);
  return { code, stdout, stderr };
}

describe('canarybot validate', () => {
  it('names the four definitions of pipelines/ and exits 0', async () => {
    const { code, stdout } = await validate(['pipelines']);

    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        '4 valid definitions in pipelines:',
        '  details      blueGreen, 4 steps',
        '  productpage  mirror, 8 steps',
        '  ratings      abTest, 2 steps',
        '  reviews      canary, 8 steps',
        '',
      ].join('\n'),
    );
  });

  it('warns, without failing, about definitions whose analysis polls an Alertmanager that is not set', async () => {
    const without = await validate(['pipelines']);
    const withUrl = await validate(['pipelines'], { ALERTMANAGER_URL: 'http://alertmanager:9093' });

    expect(without.code).toBe(0);
    expect(without.stderr).toMatch(/^warning: ALERTMANAGER_URL is not set, but pipelines [a-z, ]*reviews[a-z, ]* poll Alertmanager in analysis/);
    expect(withUrl.code).toBe(0);
    expect(withUrl.stderr).toBe('');
  });

  it('defaults to PIPELINES_DIR', async () => {
    const { code, stdout } = await validate([], { PIPELINES_DIR: 'pipelines' });

    expect(code).toBe(0);
    expect(stdout).toMatch(/^4 valid definitions in pipelines:/);
  });

  it('prints one line per error and exits 1', async () => {
    const { code, stdout, stderr } = await validate(['test/fixtures/pipelines']);

    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^test\/fixtures\/pipelines\/three-mistakes\.yaml:\d+:\d+: spec\.[\w.[\]]+: /);
    expect(stderr).toBe('3 errors in 1 file\n');
  });

  it('reports a missing directory', async () => {
    const { code, stdout } = await validate(['no/such/dir']);

    expect(code).toBe(1);
    expect(stdout).toBe('no/such/dir:1:1: cannot read the directory (ENOENT)\n');
  });

  it('has --help', async () => {
    const { code, stdout } = await validate(['--help']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: canarybot validate \[dir\]/);
  });

  it('refuses two directories', async () => {
    const { code, stderr } = await validate(['a', 'b']);

    expect(code).toBe(1);
    expect(stderr).toMatch(/expected at most one directory/);
  });
});

describe('canarybot validate --format', () => {
  it('codequality: one GitLab Code Quality issue per error, located by repository path and line', async () => {
    const text = await validate(['test/fixtures/pipelines', '--format', 'codequality']);
    const plain = await validate(['test/fixtures/pipelines']);
    const issues = JSON.parse(text.stdout) as { description: string; check_name: string; fingerprint: string; severity: string; location: { path: string; lines: { begin: number } } }[];

    expect(text.code).toBe(1);
    expect(issues).toHaveLength(plain.stdout.trimEnd().split('\n').length);
    for (const issue of issues) {
      // The fields and values GitLab's Code Quality report format documents.
      expect(Object.keys(issue).sort()).toEqual(['check_name', 'description', 'fingerprint', 'location', 'severity']);
      expect(['info', 'minor', 'major', 'critical', 'blocker']).toContain(issue.severity);
      expect(issue.location.path).toBe('test/fixtures/pipelines/three-mistakes.yaml');
      expect(Number.isInteger(issue.location.lines.begin) && issue.location.lines.begin >= 1).toBe(true);
      expect(issue.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(new Set(issues.map((issue) => issue.fingerprint)).size).toBe(issues.length);
    const lines = plain.stdout.trimEnd().split('\n');
    expect(issues.map((issue) => `${issue.location.path}:${issue.location.lines.begin}`)).toEqual(lines.map((line) => line.split(':').slice(0, 2).join(':')));
  });

  it('codequality: an empty report and exit 0 when every definition is valid', async () => {
    const { code, stdout } = await validate(['pipelines', '--format', 'codequality']);

    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([]);
  });

  it('json: valid, the definitions, the located errors and the warnings', async () => {
    const good = await validate(['pipelines', '--format', 'json']);
    const bad = await validate(['test/fixtures/pipelines', '--format', 'json']);

    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ valid: true, definitions: expect.arrayContaining([{ name: 'reviews', strategy: 'canary', steps: 8 }]), errors: [] });
    expect(JSON.parse(good.stdout).warnings[0]).toMatch(/^ALERTMANAGER_URL is not set/);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ valid: false, errors: expect.arrayContaining([expect.objectContaining({ file: 'test/fixtures/pipelines/three-mistakes.yaml' })]) });
  });

  it('refuses another format with exit 2', async () => {
    const { code, stderr } = await validate(['pipelines', '--format', 'sarif']);

    expect(code).toBe(2);
    expect(stderr).toMatch(/^canarybot validate: --format must be text, json or codequality/);
  });
});
