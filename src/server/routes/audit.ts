// `GET /api/audit?since=<ISO time | epoch ms>[&service=…]`: the audit trails of the releases as JSON
// lines for a SIEM, oldest first — every command (accepted or refused, with its channel in the
// actor), gate verdict and write. One line per entry: the entry plus the release it belongs to.
// Commands the intake refused before there was a release to record them (unknown command, unmapped
// chat user, no live release for the MR or service) come from the intake audit, with `releaseId: null`.
// Behind the same authentication as the rest of /api.

import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { AuditEntry, Release } from '../../core/release.js';
import type { ReleaseReader } from '../../engine/api.js';
import type { IntakeActor, IntakeAudit, IntakeAuditEntry } from '../../engine/intake-audit.js';
import type { RouteModule } from '../app.js';

export interface AuditRouteOptions {
  reader: Pick<ReleaseReader, 'list'>;
  /** Releases read per call, newest first (default 5000): older ones are not exported. */
  scanLimit?: number;
  /** Refusals recorded by the intake before any release existed for them. */
  intake?: Pick<IntakeAudit, 'since'>;
}

export interface AuditLine extends AuditEntry {
  time: string;
  releaseId: string;
  service: string;
  namespace: string;
  cluster: string;
  image: string;
  mr: { projectId: number; iid: number } | null;
}

/** A refusal at intake: no release, so no release fields; the service when the command named one. */
export interface IntakeAuditLine extends Omit<AuditEntry, 'actor'> {
  actor: IntakeActor | null;
  time: string;
  releaseId: null;
  service: string | null;
  namespace: null;
  cluster: null;
  image: null;
  mr: { projectId: number; iid: number } | null;
}

export function intakeAuditLines(entries: readonly IntakeAuditEntry[], service: string | undefined): IntakeAuditLine[] {
  return entries
    .filter((entry) => service === undefined || entry.service === service)
    .map((entry) => ({
      at: entry.at,
      actor: entry.actor,
      action: entry.action,
      stepIndex: null,
      detail: `${entry.verb}: ${entry.sentence}`,
      time: new Date(entry.at).toISOString(),
      releaseId: null,
      service: entry.service ?? null,
      namespace: null,
      cluster: null,
      image: null,
      mr: entry.mr ?? null,
    }));
}

/** `since` as epoch ms: an ISO date-time or a number of milliseconds; null when it is neither. */
export function parseSince(value: string | undefined): number | null {
  if (value === undefined || value === '') return 0;
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

export function auditLines(releases: readonly Release[], since: number): AuditLine[] {
  const lines: AuditLine[] = [];
  for (const release of releases) {
    for (const entry of release.audit) {
      if (entry.at < since) continue;
      lines.push({
        ...entry,
        time: new Date(entry.at).toISOString(),
        releaseId: release.id,
        service: release.service,
        namespace: release.namespace,
        cluster: release.cluster,
        image: release.image,
        mr: release.mr ? { projectId: release.mr.projectId, iid: release.mr.iid } : null,
      });
    }
  }
  // Stable: entries of one release at the same instant keep their order.
  return lines.sort((a, b) => a.at - b.at);
}

export function auditRoute(options: AuditRouteOptions): RouteModule {
  return (app: FastifyInstance) => {
    app.get('/api/audit', async (request, reply) => {
      const params = request.query as Record<string, string | undefined>;
      const since = parseSince(params.since);
      if (since === null) return reply.code(400).send({ error: 'since must be an ISO 8601 date-time or epoch milliseconds' });
      const releases = await options.reader.list({ limit: options.scanLimit ?? 5000, ...(params.service ? { service: params.service } : {}) });
      const intake = options.intake ? intakeAuditLines(await options.intake.since(since), params.service || undefined) : [];
      const lines = [...auditLines(releases.filter((release) => release.updatedAt >= since), since), ...intake].sort((a, b) => a.at - b.at);
      reply.type('application/x-ndjson; charset=utf-8');
      return reply.send(Readable.from((function* () {
        for (const line of lines) yield `${JSON.stringify(line)}\n`;
      })()));
    });
  };
}
