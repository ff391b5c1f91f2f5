import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'canarybot-setup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function executable(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function setup(env: Record<string, string>) {
  return spawnSync(process.execPath, ['scripts/setup.mjs'], { env: { ...env }, encoding: 'utf8' });
}

describe('scripts/setup.mjs', () => {
  it('does nothing when every program is on PATH', () => {
    const bin = mkdtempSync(join(dir, 'bin-'));
    for (const name of ['redis-server', 'prometheus', 'prometheus-alertmanager', 'openssl', 'chromium']) {
      writeFileSync(join(bin, name), '');
      chmodSync(join(bin, name), 0o755);
    }

    const result = setup({ PATH: bin, APT_GET: executable('apt-never', 'exit 9') });

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('found');
  });

  it.runIf(process.getuid?.() === 0)('as root installs only what is missing, non-interactively', () => {
    const log = join(dir, 'apt.log');
    const bin = mkdtempSync(join(dir, 'bin-'));
    writeFileSync(join(bin, 'redis-server'), '');
    chmodSync(join(bin, 'redis-server'), 0o755);
    const apt = executable('apt-fake', `echo "$DEBIAN_FRONTEND $*" >> ${log}`);

    const result = setup({ PATH: bin, APT_GET: apt });

    expect(result.status).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('noninteractive update\nnoninteractive install -y prometheus prometheus-alertmanager openssl chromium\n');
  });

  it('stops when apt-get fails', () => {
    const result = setup({ PATH: mkdtempSync(join(dir, 'empty-')), APT_GET: executable('apt-fail', 'exit 100') });

    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/failed|missing/);
  });

  it('prints the apt-get line and exits 1 when not root', () => {
    const result = setup({ PATH: mkdtempSync(join(dir, 'empty-')), SETUP_AS_USER: '1' });

    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server prometheus prometheus-alertmanager openssl chromium',
    );
  });
});
