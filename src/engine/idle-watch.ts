// "Workers silently idle": jobs are due while no worker runs any, for longer than a window. Known
// BullMQ/ioredis bugs (e.g. the Sentinel one in BullMQ 6.0.10–6.1.2) looked exactly like this;
// the pinned versions are fixed, and this watch turns a recurrence into an alert.

export interface QueueSample {
  /** Jobs ready to run now (waiting + prioritized; delayed ones are not due). */
  due: number;
  active: number;
}

export interface IdleWatch {
  /** Feed one sample; returns whether the queue has been idle with a backlog for the whole window. */
  observe(sample: QueueSample, now: number): boolean;
  /** Since when jobs have been due with none active (null: not idle). */
  idleSince(): number | null;
}

export const IDLE_WITH_BACKLOG_WINDOW_MS = 60_000;

export function createIdleWatch(windowMs = IDLE_WITH_BACKLOG_WINDOW_MS): IdleWatch {
  let since: number | null = null;
  return {
    observe(sample, now) {
      if (sample.due > 0 && sample.active === 0) since ??= now;
      else since = null;
      return since !== null && now - since >= windowMs;
    },
    idleSince: () => since,
  };
}
