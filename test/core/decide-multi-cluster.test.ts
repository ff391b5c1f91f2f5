// Issue 13 defect 12: a release that fails on cluster N rolls back clusters 1..N-1 too (spec.onFailure:
// rollback, the default): this cluster first, then each promoted one newest first, traffic to 100 %
// stable before its previous image goes back on stable; `keepPromoted` keeps them. Whole runs
// through the pure driver, with every port effect tagged with the cluster it was asked of.

import { describe, expect, it } from 'vitest';
import type { OnFailure, Step } from '../../src/core/definition.js';
import type { GitOpsSpec } from '../../src/core/gitops-spec.js';
import type { EffectOutcome } from '../../src/core/input.js';
import type { Release } from '../../src/core/release.js';
import { Driver, passing } from './driver.js';
import { IMAGE, T0, check, definition, release } from './fixtures.js';

const STEPS: Step[] = [{ kind: 'setWeight', weight: 20 }, { kind: 'analysis', count: 1 }, { kind: 'setWeight', weight: 100 }];
const OLD: Record<string, string> = { eu: 'reviews:old-eu', us: 'reviews:old-us', ap: 'reviews:old-ap' };

function multi(clusters: string[], onFailure?: OnFailure, gitops?: GitOpsSpec): Release {
  const base = definition({ steps: STEPS }, gitops ? { gitops } : {});
  const def = { ...base, target: { ...base.target, clusters }, ...(onFailure ? { onFailure } : {}) };
  return release(def, { cluster: clusters[0], clusterIndex: 0 });
}

/** Runs the release; analysis fails on `failOn`; preflight fails there instead when `preflightFails`. Returns the effects as `cluster effect`. */
function run(start: Release, failOn: string, options: { preflightFails?: boolean } = {}): { end: Release; log: string[] } {
  const current = { cluster: (): string => start.cluster };
  const rollout = (effect: 'preflight' | 'ensure-canary' | 'ensure-stable'): EffectOutcome => {
    const cluster = current.cluster();
    if (effect === 'preflight' && options.preflightFails && cluster === failOn) return { outcome: 'terminal', code: 'PREFLIGHT_FAILED', message: 'no route primary' };
    if (effect !== 'preflight') return { outcome: 'ok' };
    // spec.gitops: this cluster's own file (cluster: <name>) holds its stable tag.
    const gitops = start.definition.gitops ? { gitops: { branch: 'main', warnings: [], pins: [{ path: `apps/${cluster}.yaml`, where: 'image.tag', before: OLD[cluster]!.split(':')[1]!, after: IMAGE.split(':')[1]! }] } } : {};
    return { outcome: 'ok', stableImage: OLD[cluster], ...gitops } as unknown as EffectOutcome;
  };
  const driver = new Driver(start, T0, {
    rollout,
    gate: (_step, _n, at) => (current.cluster() === failOn ? { ...check('fail'), at } : passing(at)),
  });
  current.cluster = () => driver.release.cluster;
  driver.send({ type: 'start' });
  const end = driver.run();
  const log: string[] = [];
  for (const t of driver.transitions) {
    for (const e of t.decision.effects) {
      const where = t.decision.next.cluster;
      if (e.type === 'set-traffic') log.push(`${where} traffic ${e.traffic.weights.canary}`);
      else if (e.type === 'ensure-stable') log.push(`${where} stable ${e.image}`);
      else if (e.type === 'scale-canary') log.push(`${where} scale ${e.replicas}`);
      else if (e.type === 'gitops-commit' || e.type === 'gitops-revert') log.push(`${where} ${e.type} ${t.decision.next.gitops?.pins.map((pin) => pin.path).join(',') ?? ''}`);
    }
  }
  return { end, log };
}

describe('multi-cluster failure (spec.onFailure)', () => {
  it('default: a failure on the second cluster rolls it back, then the first: traffic, then its previous image, then the scale-down', () => {
    const { end, log } = run(multi(['eu', 'us']), 'us');
    expect(end.state).toBe('rolled-back');
    expect(end.promotedClusters).toEqual([]);
    expect(log).toEqual([
      'eu traffic 20', 'eu traffic 100', 'eu stable ' + IMAGE, 'eu traffic 0', 'eu scale 0',
      'us traffic 20', 'us traffic 0', 'us scale 0',
      'eu traffic 0', `eu stable ${OLD.eu}`, 'eu scale 0',
    ]);
    const actions = end.audit.map((a) => `${a.action}${a.detail ? ` ${a.detail}` : ''}`);
    expect(actions).toEqual(expect.arrayContaining([
      'cluster-rolled-back us',
      `cluster-rolling-back eu (promoted earlier): 100 % stable, then ${OLD.eu} back on stable`,
      `stable-restored ${OLD.eu}`,
      'cluster-rolled-back eu',
    ]));
  });

  it('three clusters, failing on the third: the promoted ones roll back newest first', () => {
    const { end, log } = run(multi(['eu', 'us', 'ap']), 'ap');
    expect(end.state).toBe('rolled-back');
    const restores = log.filter((line) => line.includes('stable reviews:old'));
    expect(restores).toEqual([`us stable ${OLD.us}`, `eu stable ${OLD.eu}`]);
    expect(log.indexOf('us traffic 0', log.indexOf('ap scale 0'))).toBeLessThan(log.indexOf(`us stable ${OLD.us}`));
  });

  it('keepPromoted: only the failing cluster is rolled back, and the audit names the clusters kept', () => {
    const { end, log } = run(multi(['eu', 'us'], 'keepPromoted'), 'us');
    expect(end.state).toBe('rolled-back');
    expect(log.filter((line) => line.includes('old'))).toEqual([]);
    expect(end.audit.map((a) => `${a.action} ${a.detail ?? ''}`)).toContain(`clusters-kept eu keep ${IMAGE} (spec.onFailure: keepPromoted)`);
  });

  it('a pre-flight refused on the second cluster (nothing changed there) rolls back the first', () => {
    const { end, log } = run(multi(['eu', 'us']), 'us', { preflightFails: true });
    expect(end.state).toBe('rolled-back');
    expect(end.reason).toBe('preflight failed on us: no route primary (PREFLIGHT_FAILED)');
    expect(log.slice(-3)).toEqual(['eu traffic 0', `eu stable ${OLD.eu}`, 'eu scale 0']);
    expect(log.filter((line) => line.startsWith('us'))).toEqual([]);
  });

  it('a pre-flight refused on the first cluster fails as before (nothing promoted)', () => {
    const { end, log } = run(multi(['eu', 'us']), 'eu', { preflightFails: true });
    expect(end.state).toBe('failed');
    expect(log).toEqual([]);
  });

  it('a single cluster is unchanged by the setting', () => {
    const { end, log } = run(multi(['eu']), 'eu');
    expect(end.state).toBe('rolled-back');
    expect(log).toEqual(['eu traffic 20', 'eu traffic 0', 'eu scale 0']);
  });

  it('with spec.gitops: a promoted cluster is rolled back in Git first (one revert of its own file), then its previous image goes back on stable', () => {
    const gitops: GitOpsSpec = {
      repository: 'platform/k8s-config',
      files: ['eu', 'us'].map((cluster) => ({ path: `apps/${cluster}.yaml`, pin: { kind: 'helmValues' as const, path: ['image', 'tag'] }, cluster })),
      via: 'commit',
      onDrift: 'refuse',
      mergeTimeoutMs: 600_000,
    };
    const { end, log } = run(multi(['eu', 'us'], undefined, gitops), 'us');

    expect(end.state).toBe('rolled-back');
    expect(log).toEqual([
      'eu traffic 20', 'eu traffic 100', 'eu gitops-commit apps/eu.yaml', `eu stable ${IMAGE}`, 'eu traffic 0', 'eu scale 0',
      'us traffic 20', 'us traffic 0', 'us scale 0',
      // Never an image on eu's stable that Git does not hold: the revert first.
      'eu traffic 0', 'eu gitops-revert apps/eu.yaml', `eu stable ${OLD.eu}`, 'eu scale 0',
    ]);
  });
});
