import type { LabelMatcher } from '../../src/core/definition.js';
import { matchesAll } from '../../src/core/label-matchers.js';
import type { AlertRequest, ReleaseEngine } from '../../src/engine/api.js';

/**
 * The part of ReleaseEngine the alert routes use: records every alert and answers with the live
 * releases whose matchers all match, the rule the real engine applies.
 */
export class AlertEngineRecorder implements Pick<ReleaseEngine, 'alert' | 'alertBatch'> {
  readonly alerts: AlertRequest[] = [];
  failing = false;

  constructor(private readonly live: Array<{ id: string; matchers: LabelMatcher[] }>) {}

  async alert(alert: AlertRequest): Promise<{ releaseIds: string[] }> {
    if (this.failing) throw new Error('queue unavailable');
    this.alerts.push(alert);
    return { releaseIds: this.live.filter((r) => r.matchers.length > 0 && matchesAll(r.matchers, alert.labels)).map((r) => r.id) };
  }

  async alertBatch(alerts: readonly AlertRequest[]): Promise<{ releaseIds: string[] }> {
    const results = [];
    for (const alert of alerts) results.push(await this.alert(alert));
    return { releaseIds: [...new Set(results.flatMap((r) => r.releaseIds))] };
  }
}

export const REVIEWS_MATCHERS: LabelMatcher[] = [
  { name: 'service', op: '=', value: 'reviews' },
  { name: 'severity', op: '=~', value: 'critical|page' },
];
