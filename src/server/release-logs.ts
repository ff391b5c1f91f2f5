import type { Logger } from 'pino';
import type { Reporter } from '../core/ports.js';
import { isLive } from '../core/release.js';

/**
 * Wraps the Reporter port so every release event is logged by a child logger of its own release
 * (releaseId, service, namespace, cluster bound once), kept while the release is live.
 */
export function withReleaseLogs(reporter: Reporter, logger: Logger): Reporter {
  const children = new Map<string, Logger>();
  return {
    async report(release, event) {
      let log = children.get(release.id);
      if (!log) {
        log = logger.child({ releaseId: release.id, service: release.service, namespace: release.namespace, cluster: release.cluster });
        children.set(release.id, log);
      }
      const fields = { event, state: release.state, step: release.stepIndex, weights: release.weights, image: release.image };
      if (event === 'gate-failed' || release.state === 'rolled-back' || release.state === 'failed') log.warn({ ...fields, reason: release.reason }, 'release event');
      else log.info(fields, 'release event');
      if (!isLive(release.state)) children.delete(release.id);
      await reporter.report(release, event);
    },
  };
}
