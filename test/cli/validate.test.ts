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
