// Concurrency limits, pure: which queued releases may start now, and for the others, in one sentence,
// what they wait for. A namespace and a tenant (TENANTS_FILE) may each cap the releases running in them
// at once (`maxConcurrentReleases`). The queue is taken in arrival order: when a slot frees, the
// earliest queued release that fits every limit it is under takes it; a release waits only on a scope
// that is full, so a full namespace does not hold up a tenant's other namespaces. A newer image that
// supersedes a release waiting in line takes that release's place (the team keeps its turn by pushing a fix).

export interface AdmissionLimits {
  /** maxConcurrentReleases per namespace. */
  namespaces: Readonly<Record<string, number>>;
  /** maxConcurrentReleases per tenant. */
  tenants: Readonly<Record<string, number>>;
}

export interface Contender {
  id: string;
  service: string;
  namespace: string;
  tenant: string | null;
}

export interface AdmissionPlan {
  /** Queued releases that start now, in arrival order. */
  start: string[];
  /** The releases that go on waiting, in arrival order, with what they wait for. */
  waiting: { id: string; sentence: string; blockers: string[] }[];
}

interface Scope {
  label: string;
  limit: number;
  members: Contender[];
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const named = (contenders: readonly Contender[]) => contenders.map((c) => `${c.service} (${c.id})`).join(', ');

/** Does a release under these limits have to go through the queue at all? */
export function isLimited(limits: AdmissionLimits, contender: Pick<Contender, 'namespace' | 'tenant'>): boolean {
  return limits.namespaces[contender.namespace] !== undefined || (contender.tenant !== null && limits.tenants[contender.tenant] !== undefined);
}

function scopesOf(limits: AdmissionLimits, contender: Contender, running: Map<string, Scope>): Scope[] {
  const scopes: Scope[] = [];
  const add = (key: string, label: string, limit: number | undefined) => {
    if (limit === undefined) return;
    const scope = running.get(key) ?? { label, limit, members: [] };
    running.set(key, scope);
    scopes.push(scope);
  };
  add(`namespace/${contender.namespace}`, `namespace ${contender.namespace}`, limits.namespaces[contender.namespace]);
  if (contender.tenant !== null) add(`tenant/${contender.tenant}`, `tenant ${contender.tenant}`, limits.tenants[contender.tenant]);
  return scopes;
}

export function planAdmission(limits: AdmissionLimits, running: readonly Contender[], queue: readonly Contender[]): AdmissionPlan {
  const scopes = new Map<string, Scope>();
  for (const contender of running) for (const scope of scopesOf(limits, contender, scopes)) scope.members.push(contender);
  const plan: AdmissionPlan = { start: [], waiting: [] };
  /** Queued releases still waiting, per scope label, in arrival order. */
  const ahead = new Map<string, Contender[]>();
  for (const contender of queue) {
    const mine = scopesOf(limits, contender, scopes);
    const full = mine.filter((scope) => scope.members.length >= Math.max(1, scope.limit));
    if (full.length === 0) {
      plan.start.push(contender.id);
      for (const scope of mine) scope.members.push(contender);
      continue;
    }
    const before = [...new Map(full.flatMap((scope) => ahead.get(scope.label) ?? []).map((c) => [c.id, c])).values()];
    const parts = full.map((scope) => `${scope.label} allows ${plural(scope.limit, 'release')} at once and ${named(scope.members)} ${scope.members.length === 1 ? 'is' : 'are'} running`);
    const queued = before.length > 0 ? `; queued before it: ${named(before)}` : '';
    plan.waiting.push({
      id: contender.id,
      sentence: `Waiting for a free release slot: ${parts.join('; ')}${queued}. It starts on its own when one ends.`,
      blockers: [...new Set([...full.flatMap((scope) => scope.members.map((c) => c.id)), ...before.map((c) => c.id)])],
    });
    for (const scope of full) ahead.set(scope.label, [...(ahead.get(scope.label) ?? []), contender]);
  }
  return plan;
}

/** Where the superseded release stands in the line when a newer image of its service arrives. */
export interface Standing {
  /** It waits for a slot (pending, phase queued): only then has it a place to hand on. */
  waiting: boolean;
  /** Its place in the line (the queue's score), or null when it is not in the line. */
  place: number | null;
  /** It won a slot whose start it has not applied yet. */
  admitted: boolean;
}

/** The place of the first in line: ahead of every release put in line by arrival (those count from 1). */
export const FRONT_OF_LINE = 0;

/**
 * The place in line the newer release takes over, or null (it queues at the back, in arrival order).
 * A waiting release hands on its place; one that already won a slot hands on the front, so the newer
 * one gets the slot next. `carried` is the place an earlier newer image (replaced before it was
 * created) took over: the superseded release may have left the line since.
 */
export function supersederPlace(superseded: Standing, carried: number | null): number | null {
  if (!superseded.waiting) return carried;
  if (superseded.place !== null) return superseded.place;
  return superseded.admitted ? FRONT_OF_LINE : carried;
}
