// `canarybot describe <service|release-id>`: one release in full — steps, gate figures, audit.

import type { ReleasePage } from '../engine/board-view.js';
import { apiClient, CliError, type ApiClient } from './api-client.js';
import { releaseRows } from './get.js';
import type { CliIo } from './io.js';
import { waitingFor, weights } from './release-table.js';

export const DESCRIBE_HELP = `usage: canarybot describe <service|release-id> [-o json]

One release in full: state, steps, the gate figures of every check, the judge, and the audit trail.
A service name means its live release, else its newest.
`;

/** A release id as given, else the service's live (or newest) release. */
export async function findRelease(client: ApiClient, name: string, opts: { liveOnly?: boolean } = {}): Promise<string> {
  const direct = await client.get<ReleasePage>(`/api/releases/${encodeURIComponent(name)}`).catch((error: unknown) => {
    if (error instanceof CliError && /no release|There is no release/i.test(error.message)) return null;
    throw error;
  });
  if (direct) return direct.id;
  const [service, namespace, cluster] = name.split('/').reverse();
  const rows = (await releaseRows(client, service)).filter(
    (r) => (namespace === undefined || r.namespace === namespace) && (cluster === undefined || r.cluster === cluster),
  );
  const live = rows.filter((r) => r.endedAt === null);
  const targets = new Set((opts.liveOnly ? live : rows).map((r) => `${r.cluster}/${r.namespace}/${r.service}`));
  if (targets.size > 1) throw new CliError(`${name} names more than one release target; say which: ${[...targets].sort().join(', ')}`, 2);
  const found = live[0] ?? (opts.liveOnly ? undefined : rows[0]);
  if (!found) throw new CliError(`no ${opts.liveOnly ? 'live ' : ''}release of ${name}`, 1);
  return found.id;
}

export function describeText(page: ReleasePage, now: number): string {
  const out: string[] = [];
  const field = (name: string, value: string | number | null | undefined): void => {
    if (value !== null && value !== undefined && value !== '') out.push(`${`${name}:`.padEnd(14)}${value}`);
  };
  field('Name', `${page.cluster}/${page.namespace}/${page.service}`);
  field('Release', page.id);
  field('Image', page.image);
  field('Strategy', page.strategy);
  field('State', page.attempt > 1 ? `${page.state} (attempt ${page.attempt})` : page.state);
  field('Step', page.step < 0 ? `-/${page.stepCount}` : `${page.step + 1}/${page.stepCount}${page.stepKind ? ` (${page.stepKind})` : ''}`);
  field('Weights', weights(page.traffic));
  field('Waiting for', waitingFor(page, now) === '-' ? null : waitingFor(page, now));
  field('Reason', page.reason);
  field('Merge request', page.links.mergeRequest);
  field('Grafana', page.links.grafana);
  out.push('', 'Steps:');
  for (const step of page.steps) out.push(`  ${String(step.index + 1).padStart(2)}  ${step.status.padEnd(8)} ${step.kind.padEnd(9)} canary ${step.weight}%${step.gates.length ? `  gates: ${step.gates.join(', ')}` : ''}`);
  if (page.gates.length > 0) {
    out.push('', 'Checks:');
    for (const gate of page.gates.slice(-10)) {
      out.push(`  ${gate.at}  step ${gate.stepIndex + 1}  ${gate.verdict}`);
      for (const m of gate.measurements) out.push(`      ${m.verdict.padEnd(13)} ${m.name}: ${m.value ?? 'no value'} (${m.threshold})`);
    }
  }
  if (page.judge) out.push('', `Judge:        score ${page.judge.score} (${page.judge.verdict})`);
  out.push('', 'Audit:');
  for (const entry of page.audit) {
    const who = entry.actor ? ` @${entry.actor.username} (${entry.actor.channel})` : '';
    out.push(`  ${entry.at}  ${entry.action}${who}${entry.detail ? `: ${entry.detail}` : ''}`);
  }
  return `${out.join('\n')}\n`;
}

export async function runDescribe(args: string[], io: CliIo, deps: { fetch?: typeof fetch; now?: () => number } = {}): Promise<number> {
  const json = args.includes('-o') && args[args.indexOf('-o') + 1] === 'json';
  const names = args.filter((arg, i) => !arg.startsWith('-') && args[i - 1] !== '-o');
  const unknown = args.find((arg, i) => arg.startsWith('-') && arg !== '-o' && !(args[i - 1] === '-o'));
  if (unknown) throw new CliError(`unknown option ${unknown}`, 2);
  if (names.length !== 1) throw new CliError('give one service or release id', 2);
  const client = apiClient(io, deps.fetch);
  const id = await findRelease(client, names[0]!);
  const page = await client.get<ReleasePage>(`/api/releases/${encodeURIComponent(id)}`);
  io.stdout.write(json ? `${JSON.stringify(page, null, 2)}\n` : describeText(page, (deps.now ?? Date.now)()));
  return 0;
}
