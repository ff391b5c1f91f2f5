import { describe, expect, it } from 'vitest';
import { localTime, windowVerdict, type FreezePeriod, type ReleaseWindow } from './windows.js';

const H = 3_600_000;
const utc = (iso: string) => Date.parse(iso);
const officeHours: ReleaseWindow = { kind: 'allow', cron: '0 9 * * 1-5', durationMs: 8 * H, timezone: 'Europe/Berlin' };
const nightDeny: ReleaseWindow = { kind: 'deny', cron: '0 22 * * *', durationMs: 4 * H, timezone: 'Europe/Berlin' };
// GitLab's documented example: frozen from Friday 23:00 to Monday 07:00 UTC.
const weekendFreeze: FreezePeriod = { freezeStart: '0 23 * * 5', freezeEnd: '0 7 * * 1', timezone: 'UTC' };
const nyNightFreeze: FreezePeriod = { freezeStart: '0 23 * * *', freezeEnd: '0 6 * * *', timezone: 'America/New_York' };

type Row = [name: string, windows: ReleaseWindow[], freezes: FreezePeriod[], now: string, open: boolean, opensAt: string | null];

const rows: Row[] = [
  ['no windows, no freezes: always open', [], [], '2026-03-28T12:00:00Z', true, null],
  ['inside office hours (10:00 CET)', [officeHours], [], '2026-03-27T09:00:00Z', true, null],
  ['Saturday before the spring DST change: Monday 09:00 is 07:00Z (CEST), not 08:00Z', [officeHours], [], '2026-03-28T12:00:00Z', false, '2026-03-30T07:00:00.000Z'],
  ['Friday evening after office hours (CET): Monday 09:00 CET is 08:00Z', [officeHours], [], '2026-03-20T17:30:00Z', false, '2026-03-23T08:00:00.000Z'],
  ['autumn DST change: Saturday → Monday 09:00 CET is 08:00Z again', [officeHours], [], '2026-10-24T12:00:00Z', false, '2026-10-26T08:00:00.000Z'],
  ['a deny window spanning midnight, before midnight (23:30 CET)', [nightDeny], [], '2026-01-15T22:30:00Z', false, '2026-01-16T01:00:00.000Z'],
  ['a deny window spanning midnight, after midnight (01:30 CET)', [nightDeny], [], '2026-01-16T00:30:00Z', false, '2026-01-16T01:00:00.000Z'],
  ['the deny window is over at 02:00 CET', [nightDeny], [], '2026-01-16T01:00:00Z', true, null],
  ['deny wins over allow', [{ ...officeHours, durationMs: 24 * H }, { kind: 'deny', cron: '0 12 * * *', durationMs: H, timezone: 'Europe/Berlin' }], [], '2026-01-15T11:30:00Z', false, '2026-01-15T12:00:00.000Z'],
  ['GitLab weekend freeze on Saturday', [], [weekendFreeze], '2026-03-28T12:00:00Z', false, '2026-03-30T07:00:00.000Z'],
  ['GitLab weekend freeze over on Monday 07:00', [], [weekendFreeze], '2026-03-30T07:00:00Z', true, null],
  ['GitLab freeze spanning midnight in New York, after midnight (EST)', [], [nyNightFreeze], '2026-01-16T06:00:00Z', false, '2026-01-16T11:00:00.000Z'],
  ['the same freeze after the US DST change (EDT)', [], [nyNightFreeze], '2026-03-16T05:00:00Z', false, '2026-03-16T10:00:00.000Z'],
  ['a freeze ends inside a deny window: open when the deny window ends', [nightDeny], [{ freezeStart: '0 20 * * *', freezeEnd: '0 23 * * *', timezone: 'Europe/Berlin' }], '2026-01-15T20:00:00Z', false, '2026-01-16T01:00:00.000Z'],
  ['a freeze ends outside office hours: open at the next office hours', [officeHours], [weekendFreeze], '2026-03-28T12:00:00Z', false, '2026-03-30T07:00:00.000Z'],
];

describe('windowVerdict', () => {
  it.each(rows)('%s', (_name, windows, freezes, now, open, opensAt) => {
    const verdict = windowVerdict(windows, freezes, utc(now));

    expect(verdict.open).toBe(open);
    expect(verdict.opensAt === null ? null : new Date(verdict.opensAt).toISOString()).toBe(opensAt);
  });

  it('says why it is closed', () => {
    expect(windowVerdict([nightDeny], [], utc('2026-01-15T22:30:00Z'))).toMatchObject({ kind: 'window', reason: 'the deny window "0 22 * * *" for 4h (Europe/Berlin) is in force' });
    expect(windowVerdict([], [weekendFreeze], utc('2026-03-28T12:00:00Z'))).toMatchObject({ kind: 'freeze', reason: 'a GitLab deploy freeze (from "0 23 * * 5" to "0 7 * * 1", UTC) is in force' });
    expect(windowVerdict([officeHours], [], utc('2026-03-28T12:00:00Z')).reason).toBe('it is outside every allow window (allow window "0 9 * * 1-5" for 8h (Europe/Berlin))');
  });

  it('formats local times in the zone, across the DST change', () => {
    expect(localTime(utc('2026-03-30T07:00:00Z'), 'Europe/Berlin')).toBe('2026-03-30 09:00 Europe/Berlin');
    expect(localTime(utc('2026-03-27T08:00:00Z'), 'Europe/Berlin')).toBe('2026-03-27 09:00 Europe/Berlin');
  });
});
