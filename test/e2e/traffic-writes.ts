// Reading the traffic writes a test recorded: the canary weight each VirtualService patch set, and
// how often a value was written in a row (a repeated write shows as a run longer than 1).

/** The canary weight a JSON patch of the VirtualService writes (stable is route 0, the canary route 1). */
export function canaryWeightOf(body: unknown): number | null {
  const ops = Array.isArray(body) ? (body as { op: string; path: string; value?: unknown }[]) : [];
  let weight: number | null = null;
  for (const op of ops) {
    if (Array.isArray(op.value)) {
      const canary = (op.value as { destination?: { subset?: string }; weight?: number }[]).find((d) => d.destination?.subset === 'canary');
      weight = canary ? (canary.weight ?? 0) : 0;
    } else if (typeof op.value === 'object' && op.value !== null && (op.value as { destination?: { subset?: string } }).destination?.subset === 'canary') {
      weight = (op.value as { weight?: number }).weight ?? 0;
    } else if (/\/route\/1\/weight$/.test(op.path) && typeof op.value === 'number') {
      weight = op.value;
    } else if (op.op === 'remove' && /\/route\/1$/.test(op.path)) {
      weight = 0;
    }
  }
  return weight;
}

export function collapse<T>(values: T[]): T[] {
  return values.filter((value, i) => i === 0 || values[i - 1] !== value);
}

export function longestRun<T>(values: T[]): number {
  let longest = 0;
  let run = 0;
  values.forEach((value, i) => {
    run = i > 0 && values[i - 1] === value ? run + 1 : 1;
    longest = Math.max(longest, run);
  });
  return longest;
}

/** Commit status states POSTed for `sha` under `name`, in order, refused ones included (GitLab keeps only the latest). */
export function statusPosts(calls: readonly { route: string | null; path: string; body: unknown }[], sha: string, name: (candidate: string) => boolean): string[] {
  return calls
    .filter((call) => call.route === 'POST /projects/:id/statuses/:sha' && call.path.endsWith(`/statuses/${sha}`))
    .map((call) => call.body as { name?: string; context?: string; state?: string })
    .filter((body) => name(body.name ?? body.context ?? ''))
    .map((body) => body.state ?? '');
}
