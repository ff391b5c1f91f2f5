// The app projects' GitLab deploy freeze periods, read with the bot's token and cached: re-read from
// GitLab once the cached answer is older than `ttlMs` (default 5 min). During a GitLab outage the last
// answer stands; with none, the read fails and the intake retries (a freeze is never assumed away).

import type { FreezePeriod } from '../core/windows.js';
import type { GitLabApi } from './gitlab-api.js';

export class FreezeCalendar {
  private readonly cache = new Map<string, { readAt: number; periods: FreezePeriod[] }>();

  constructor(
    private readonly gitlab: Pick<GitLabApi, 'freezePeriods'>,
    private readonly ttlMs = 300_000,
    private readonly now: () => number = Date.now,
  ) {}

  async periods(project: number | string): Promise<FreezePeriod[]> {
    const key = String(project).toLowerCase();
    const cached = this.cache.get(key);
    if (cached && this.now() - cached.readAt < this.ttlMs) return cached.periods;
    if (!this.gitlab.freezePeriods) return [];
    try {
      const periods = await this.gitlab.freezePeriods(project);
      this.cache.set(key, { readAt: this.now(), periods });
      return periods;
    } catch (error) {
      if (cached) return cached.periods;
      throw error;
    }
  }
}
