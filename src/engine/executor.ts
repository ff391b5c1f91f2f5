import type { Logger } from 'pino';
import type { Effect } from '../core/effect.js';
import { CanarybotError } from '../core/errors.js';
import type { CheckResult } from '../core/gate.js';
import type { EffectOutcome, Input } from '../core/input.js';
import { releaseTarget, type GitOpsAnswer, type GitOpsPort, type Ports, type ReleaseTarget, type RolloutStatus } from '../core/ports.js';
import type { Release } from '../core/release.js';
import type { Metrics } from '../metrics.js';
import { clusterEventFor } from './cluster-event.js';

export interface ExecutorOptions {
  ports: Ports;
  metrics?: Metrics;
  logger?: Logger;
}

/** Runs one effect against the ports; returns the input the core must see next, or null when none. */
export type EffectExecutor = (release: Release, effect: Effect) => Promise<Input | null>;

/**
 * The only place where effects meet ports. Each effect runs once: a transient CanarybotError comes
 * back as `transient` and the core retries the effect after a backoff (the one retry layer, durable
 * across restarts); anything else is `terminal`. Report and notify failures are logged and
 * swallowed: a GitLab or chat outage never blocks a release.
 */
export function createExecutor(options: ExecutorOptions): EffectExecutor {
  const { ports, metrics, logger } = options;
  async function once<T>(run: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; outcome: EffectOutcome }> {
    try {
      return { ok: true, value: await run() };
    } catch (error) {
      return { ok: false, outcome: toOutcome(error) };
    }
  }

  async function rollout(
    effect: 'ensure-canary' | 'ensure-stable',
    run: () => Promise<RolloutStatus>,
  ): Promise<Input> {
    const result = await once(run);
    if (!result.ok) return { type: 'effect-result', effect, ...result.outcome };
    const status = result.value;
    if (status.state === 'ready') return { type: 'effect-result', effect, outcome: 'ok' };
    if (status.state === 'progressing') return { type: 'effect-result', effect, outcome: 'progressing', message: status.message };
    return { type: 'effect-result', effect, outcome: 'terminal', code: 'ROLLOUT_FAILED', message: status.message };
  }

  async function plain(
    effect: 'set-traffic' | 'scale-canary',
    run: () => Promise<void>,
  ): Promise<Input> {
    const result = await once(run);
    return { type: 'effect-result', effect, ...(result.ok ? { outcome: 'ok' as const } : result.outcome) };
  }

  /** Preflight, then the stable image as it is before anything changes (when the port can tell), then Git (spec.gitops). */
  async function preflight(release: Release, target: ReleaseTarget): Promise<Input> {
    const result = await once(async () => {
      await ports.router.preflight(target);
      return ports.workloads.currentStableImage ? ports.workloads.currentStableImage(target) : undefined;
    });
    if (!result.ok) return { type: 'effect-result', effect: 'preflight', ...result.outcome };
    const stable = result.value === undefined || result.value === null ? {} : { stableImage: result.value };
    if (!release.definition.gitops) return { type: 'effect-result', effect: 'preflight', outcome: 'ok', ...stable };
    if (!ports.gitops) {
      return { type: 'effect-result', effect: 'preflight', outcome: 'terminal', code: 'GITOPS_REFUSED', message: 'spec.gitops needs the GitLab API (GITLAB_URL, GITLAB_TOKEN) for the config repository' };
    }
    const git = await once(() => ports.gitops!.preflight(release, result.value ?? null));
    if (!git.ok) return { type: 'effect-result', effect: 'preflight', ...git.outcome };
    return { type: 'effect-result', effect: 'preflight', outcome: 'ok', ...stable, gitops: git.value };
  }

  /** A GitOps effect: done → ok, not yet → progressing (with what is awaited), errors as any effect's. */
  async function gitops(effect: 'gitops-commit' | 'gitops-revert' | 'gitops-sync', run: (port: GitOpsPort) => Promise<GitOpsAnswer>): Promise<Input> {
    if (!ports.gitops) return { type: 'effect-result', effect, outcome: 'terminal', code: 'GITOPS_REFUSED', message: 'no GitOps adapter configured' };
    const result = await once(() => run(ports.gitops!));
    if (!result.ok) return { type: 'effect-result', effect, ...result.outcome };
    const { done, report, message } = result.value;
    return done
      ? { type: 'effect-result', effect, outcome: 'ok', gitops: report }
      : { type: 'effect-result', effect, outcome: 'progressing', ...(message ? { message } : {}), gitops: report };
  }

  async function gate(release: Release, stepIndex: number, run: () => Promise<CheckResult>): Promise<Input> {
    let check: CheckResult;
    try {
      check = await run();
    } catch (error) {
      // The evaluator should never throw; if it does, that is an error check, never a pass.
      const message = error instanceof Error ? error.message : String(error);
      logger?.warn({ releaseId: release.id, stepIndex, err: message }, 'gate evaluator threw');
      check = {
        verdict: 'error',
        at: ports.clock.now(),
        measurements: [{ name: 'gate', verdict: 'error', value: null, threshold: '', message }],
      };
    }
    metrics?.gateVerdicts.inc({ service: release.service, namespace: release.namespace, cluster: release.cluster, verdict: check.verdict });
    return { type: 'gate-result', stepIndex, check };
  }

  async function sideChannel(release: Release, what: string, run: () => Promise<void>): Promise<null> {
    try {
      await run();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger?.warn({ releaseId: release.id, err: message }, `${what} failed`);
    }
    return null;
  }

  /** After an effect that changed the cluster: its Event, never failing the release. */
  async function announceInCluster(release: Release, effect: Effect, input: Input | null): Promise<Input | null> {
    if (!ports.events || input?.type !== 'effect-result' || input.outcome !== 'ok') return input;
    const event = clusterEventFor(release, effect);
    if (event) await sideChannel(release, 'kubernetes event', () => ports.events!.record(releaseTarget(release), event));
    return input;
  }

  return async (release, effect) => announceInCluster(release, effect, await run(release, effect));

  async function run(release: Release, effect: Effect): Promise<Input | null> {
    const target = releaseTarget(release);
    switch (effect.type) {
      case 'preflight':
        return preflight(release, target);
      case 'gitops-commit':
        return gitops('gitops-commit', (port) => port.promote(release));
      case 'gitops-revert':
        return gitops('gitops-revert', async (port) => ({ done: true, report: await port.revert(release) }));
      case 'gitops-sync':
        return gitops('gitops-sync', (port) => port.sync(release, effect.revision, effect.image));
      case 'ensure-canary':
        return rollout('ensure-canary', () => ports.workloads.ensureCanary(target, effect.image, effect.replicas));
      case 'ensure-stable':
        return rollout('ensure-stable', () => ports.workloads.ensureStable(target, effect.image));
      case 'set-traffic': {
        const input = await plain('set-traffic', () => ports.router.setTraffic(target, effect.traffic));
        if (input.type === 'effect-result' && input.outcome === 'ok') {
          metrics?.canaryWeight.set(
            { service: release.service, namespace: release.namespace, cluster: release.cluster },
            effect.traffic.weights.canary,
          );
        }
        return input;
      }
      case 'scale-canary':
        return plain('scale-canary', () => ports.workloads.scaleCanary(target, effect.replicas));
      case 'evaluate-gates':
        return gate(release, effect.stepIndex, () => ports.gates.evaluate(release, effect.analysis, effect.metrics));
      case 'call-webhook':
        return gate(release, effect.stepIndex, () => ports.gates.callWebhook(release, effect.step));
      case 'report':
        return sideChannel(release, 'report', () => ports.reporter.report(release, effect.event));
      case 'notify':
        return sideChannel(release, 'notify', () => ports.notifier.notify(release, effect.event));
      case 'schedule-tick':
        // Scheduling is the engine's job (after the persist); nothing to do against a port.
        return null;
    }
  }
}

function toOutcome(error: unknown): EffectOutcome {
  if (error instanceof CanarybotError) {
    return { outcome: error.transient ? 'transient' : 'terminal', code: error.code, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { outcome: 'terminal', code: 'INTERNAL', message };
}
