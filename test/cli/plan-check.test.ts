// `canarybot plan --check` against the Kubernetes API test server: the release's mesh pre-flight,
// read-only, with the sentence of each problem and exit 1 when a release would be refused.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { runPlan } from '../../src/cli/plan.js';
import { REVIEWS_YAML } from '../e2e/world.js';
import { deployment, destinationRule, namespace, NS, service, virtualService } from '../mesh/fixtures.js';
import { KubeApiServer } from '../support/kube-api-server.js';

let kube: KubeApiServer;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  kube = await KubeApiServer.start();
  for (const object of [virtualService(), destinationRule(), service(), namespace(), deployment('reviews-primary', 'stable', 2), deployment('reviews-canary', 'canary', 0)]) kube.seed(object);
  dir = mkdtempSync(join(tmpdir(), 'canarybot-plan-check-'));
  writeFileSync(join(dir, 'reviews.yaml'), REVIEWS_YAML);
  env = { KUBECONFIG: kube.writeKubeconfig([kube.cluster('test')]) };
});

afterAll(async () => {
  await kube.close();
  rmSync(dir, { recursive: true, force: true });
});

async function plan(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env };
  const code = await runPlan(args, io);
  return { code, stdout, stderr };
}

describe('canarybot plan --check', () => {
  it('passes a well-configured service with exit 0, reading only', async () => {
    kube.clearRecord();

    const { code, stdout } = await plan(['reviews', '--dir', dir, '--check']);

    expect(code).toBe(0);
    expect(stdout).toContain('mesh check (read-only):\n  ✓ default: ready');
    expect(kube.requests.length).toBeGreaterThan(0);
    expect(kube.requests.every((request) => request.method === 'GET')).toBe(true);
  });

  it('lists every problem with what to change and exits 1, writing nothing', async () => {
    kube.seed(service([{ name: 'web', port: 9080 }]));
    kube.seed(namespace({}));
    kube.clearRecord();

    const { code, stdout } = await plan(['reviews', '--dir', dir, '--check']);

    expect(code).toBe(1);
    expect(stdout).toContain('  ✗ default: a release would be refused:\n');
    expect(stdout).toContain('    - Service reviews port 9080 ("web") is treated by Istio as plain TCP, so weights and header matches would do nothing: name it http-<suffix>');
    expect(stdout).toContain(`    - the stable pods (Deployment reviews-primary) get no Istio sidecar: label Namespace ${NS} istio-injection=enabled`);
    expect(stdout).toContain('    - the canary pods (Deployment reviews-canary) get no Istio sidecar');
    expect(kube.writes()).toHaveLength(0);
  });
});

describe('canarybot plan --diff against the live VirtualService', () => {
  it('starts from the VirtualService in the cluster, reading only', async () => {
    kube.seed(virtualService());
    kube.clearRecord();

    const { code, stdout, stderr } = await plan(['reviews', '--dir', dir, '--diff']);

    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('VirtualService bookinfo/reviews: what each step changes (unified diff of the YAML), starting from the live VirtualService on cluster default\n');
    expect(stdout).toMatch(/# step 1: set weight \d+%\n--- VirtualService bookinfo\/reviews \(the live VirtualService on cluster default\)\n\+\+\+ VirtualService bookinfo\/reviews \(step 1\)\n@@ /);
    expect(kube.requests.some((request) => request.method === 'GET' && request.path.endsWith('/virtualservices/reviews'))).toBe(true);
    expect(kube.writes()).toHaveLength(0);
  });

  it('says which object it could not read, and prints no plan', async () => {
    const missing = join(dir, 'missing-vs.yaml');
    writeFileSync(missing, REVIEWS_YAML.replace(/virtualService: \S+/, 'virtualService: nowhere'));

    const { code, stdout, stderr } = await plan([missing, '--diff']);

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^canarybot plan: --diff needs the VirtualService as it is now: .*nowhere.* \(or give one with --virtual-service <file>\)\n$/);
  });
});

describe('canarybot plan: windows', () => {
  it('prints the windows and the next allowed start', async () => {
    const { renderPlan } = await import('../../src/pipelines/render-plan.js');
    const { parseDefinition } = await import('../../src/pipelines/parse-definition.js');
    const yaml = REVIEWS_YAML.replace('  approvals:', '  windows:\n    - allow: "0 9 * * 1-5"\n      duration: 8h\n      timezone: Europe/Berlin\n  approvals:');
    const { definition } = parseDefinition(yaml, 'reviews.yaml');

    // Saturday 2026-03-28 12:00 UTC: the next allowed start is Monday 09:00 in Berlin, 07:00 UTC after the DST change.
    const text = renderPlan(definition!, { now: Date.UTC(2026, 2, 28, 12, 0) });

    expect(text).toContain('windows (deny wins; GitLab deploy freezes of the project also hold):\n  allow "0 9 * * 1-5" for 8h (Europe/Berlin)\nnext allowed start: 2026-03-30 09:00 Europe/Berlin (2026-03-30T07:00:00.000Z)\n');
  });
});
