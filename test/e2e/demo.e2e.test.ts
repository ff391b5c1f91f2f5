// `canarybot demo` as a child process, from the TypeScript sources (so a stale dist/ cannot fool
// it): it starts its own redis-server, releases four times and must end with one promoted release,
// two rolled back (a fixed threshold, then the judge) and one promoted after a GitLab deploy freeze
// was lifted, in its output and in the MR notes it writes.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY = "import('./src/cli/main.ts').then(async (m) => { process.exitCode = await m.main(process.argv.slice(1)); })";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function demo(args: string[], env: Record<string, string | undefined>, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', ENTRY, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The environment of a fresh machine: no REDIS_URL, nothing of this test run's configuration. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const { REDIS_URL: _redis, PIPELINES_DIR: _dir, KUBECONFIG: _kube, ...rest } = process.env;
  return { ...rest, ...extra };
}

const output = mkdtempSync(join(tmpdir(), 'canarybot-demo-e2e-'));

afterAll(() => {
  rmSync(output, { recursive: true, force: true });
});

describe('canarybot demo', () => {
  it('promotes a healthy release, rolls back a failing one and a judged slower one, and writes the MR notes', async () => {
    const run = await demo(['demo', '--output', output], cleanEnv(), 210_000);

    expect(run.stderr).not.toMatch(/canarybot demo:/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('redis-server started for the demo');
    expect(run.stdout).toMatch(/dashboard {3}http:\/\/127\.0\.0\.1:\d+\/ /);
    expect(run.stdout).toMatch(/reviews #1 .*awaiting-approval/);
    expect(run.stdout).toMatch(/approval requested on MR !1 → @rm-demo/);
    expect(run.stdout).toMatch(/#1 +registry\.example\.com\/bookinfo\/reviews:3f1c9a7b +promoted/);
    expect(run.stdout).toMatch(/#2 +registry\.example\.com\/bookinfo\/reviews:b7e4d2c1 +rolled-back .*request-success-rate \d+(\.\d+)? % < 99 %/);
    expect(run.stdout).toMatch(/#3 +registry\.example\.com\/bookinfo\/reviews:c8f5e3d2 +rolled-back .*judge score \d+(\.\d+)? against reviews-baseline .*request-duration-p99 high/);
    // The GitOps scene: the promotion is a commit to the config repository that Argo CD applies;
    // the rolled-back releases write nothing to Git.
    expect(run.stdout).toContain('gitops      platform/k8s-config (Helm chart apps/reviews) applied by a simulated Argo CD');
    const commit = /📝 platform\/k8s-config ([0-9a-f]{8}) "canarybot: promote reviews to 3f1c9a7b"\n {5}apps\/reviews\/values\.yaml:4 {2}- {2}tag: v1 {3}# promoted by canarybot\n {5}apps\/reviews\/values\.yaml:4 {2}\+ {2}tag: 3f1c9a7b {3}# promoted by canarybot\n/.exec(run.stdout)?.[1];
    expect(commit).toBeDefined();
    expect(run.stdout).toContain(`🔄 Argo CD synced ${commit}: reviews-primary runs registry.example.com/bookinfo/reviews:3f1c9a7b`);
    expect(run.stdout.match(/📁 platform\/k8s-config untouched: nothing is written to Git before promotion/g)).toHaveLength(2);
    // The freeze scene: merged during a GitLab deploy freeze, waits with the time it can start, goes
    // on when the release manager deletes the freeze.
    expect(run.stdout).toMatch(/🧊 Waiting to start: a GitLab deploy freeze \(from "\* \* \* \* \*" to "0 0 1 1 \*", Europe\/Berlin\) is in force\. It can start at \d{4}-\d\d-\d\d \d\d:\d\d Europe\/Berlin/);
    expect(run.stdout).toContain('🔓 @rm-demo deletes the deploy freeze in GitLab');
    expect(run.stdout).toMatch(/#4 +registry\.example\.com\/bookinfo\/reviews:d9a6f4e3 +promoted/);
    expect(readdirSync(output).filter((name) => name.endsWith('.md')).sort()).toEqual([
      '1-reviews-promoted.md',
      '2-reviews-rolled-back.md',
      '3-reviews-rolled-back.md',
      '4-reviews-promoted.md',
      'train-1-bookinfo-lane-succeeded.md',
      'train-2-bookinfo-lane-rolled-back.md',
    ]);
    expect(run.stdout).toMatch(/train #1 +bookinfo-lane .* succeeded/);
    expect(run.stdout).toMatch(/train #2 +bookinfo-lane .* rolled-back .*ratings is not propagating the tag: its canary got no lane requests while productpage's got \d+/);
    const train = readFileSync(join(output, 'train-1-bookinfo-lane-succeeded.md'), 'utf8');
    expect(train).toContain('## Release train `bookinfo-lane` — ✅ promoted');
    expect(train).toMatch(/\| 3 \| ratings \| `ratings:v2` \| scaled-down \| promoted \| \d+ \|/);
    const dropped = readFileSync(join(output, 'train-2-bookinfo-lane-rolled-back.md'), 'utf8');
    expect(dropped).toMatch(/\| 3 \| ratings \| `ratings:v2` \| scaled-down \| before \| 0 \| – \| inconclusive — ratings is not propagating the tag/);
    const promoted = readFileSync(join(output, '1-reviews-promoted.md'), 'utf8');
    const rolledBack = readFileSync(join(output, '2-reviews-rolled-back.md'), 'utf8');
    expect(promoted).toContain('<!-- canarybot:release:');
    expect(promoted).toContain('✅ promoted');
    expect(promoted).toContain('`rm-demo`');
    expect(promoted).toContain(`**GitOps:** \`platform/k8s-config\` @ \`main\` · commit [\`${commit}\`]`);
    expect(promoted).toContain('- `apps/reviews/values.yaml` image.tag: `v1` → `3f1c9a7b`\n- sync: Argo CD argocd/reviews — Synced');
    expect(rolledBack).toContain('**GitOps:** `platform/k8s-config` @ `main` · nothing written: the release ended before promotion\n- `apps/reviews/values.yaml` image.tag: stays `3f1c9a7b`');
    expect(rolledBack).toContain('⏪ rolled back');
    expect(rolledBack).toMatch(/request-success-rate 7\d(\.\d+)? \(>= 99%\) ❌/);
    const judged = readFileSync(join(output, '3-reviews-rolled-back.md'), 'utf8');
    expect(judged).toContain('**🧮 Judge** (step 3): score **50** of 100, ❌ fails');
    expect(judged).toMatch(/\| `request-duration-p99` \| default \| ❌ high \| \+\d+(\.\d+)? \| \[\d+(\.\d+)?, \d+(\.\d+)?\] \| meanRatio 1\.2 \|/);
    expect(judged).toMatch(/request-duration-p99 1\d\d(\.\d+)? \(<= 500 ms\) ✅/);
  }, 240_000);

  it('says in one line what to install when there is no redis-server and no REDIS_URL', async () => {
    const run = await demo(['demo', '--output', output], cleanEnv({ PATH: join(output, 'no-such-bin') }), 30_000);

    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n').filter((line) => line.startsWith('canarybot'))).toEqual([
      'canarybot demo: needs Redis — install redis-server (apt install redis-server, brew install redis) or set REDIS_URL',
    ]);
    expect(run.stdout).not.toContain('release 1');
  }, 60_000);

  it('prints its usage for --help', async () => {
    const run = await demo(['demo', '--help'], cleanEnv(), 30_000);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: canarybot demo \[--output <dir>\]/);
  }, 60_000);
});
