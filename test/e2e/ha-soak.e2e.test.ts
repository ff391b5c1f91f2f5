// Issue 16 HA soak, CI size: three `canarybot serve` processes on one redis-server, 12 releases at
// once (every 4th with a failing webhook gate), 4 SIGKILLs of random processes, each started again.
// Every release ends as expected (9 promoted, 3 rolled back), every VirtualService write sums to
// 100, the traffic steps are the planned ones (a repeat only after a kill, at most one per kill),
// one progress note per release, no repeated commit status, no acknowledged webhook lost.
// The size (3 processes, 200 releases, 30 kills) is `npx tsx bench/soak/index.ts`;
// CANARYBOT_SOAK_RELEASES / CANARYBOT_SOAK_HA_KILLS change this test's size.

import { describe, expect, it } from 'vitest';
import { runHaSoak, soakTable } from '../support/ha-soak.js';

const RELEASES = Number(process.env.CANARYBOT_SOAK_RELEASES ?? 12);
const KILLS = Number(process.env.CANARYBOT_SOAK_HA_KILLS ?? 4);

describe('HA soak: three serve processes on one Redis, processes SIGKILLed', () => {
  it(`${RELEASES} releases, ${KILLS} SIGKILLs`, { timeout: 900_000 }, async () => {
    const result = await runHaSoak({ processes: 3, releases: RELEASES, kills: KILLS, deliverSpanMs: 3_000, killSpanMs: 20_000, endTimeoutMs: 400_000 });
    process.stdout.write(`\nHA soak (CI size)\n${soakTable(result)}\n`);

    expect(result.kills).toBe(KILLS);
    expect(result.unexpected).toEqual([]);
    expect(result.promoted).toBe(result.expected.promoted);
    expect(result.rolledBack).toBe(result.expected.rolledBack);
    expect(result.webhooks.lost).toBe(0);
    expect(result.webhooks.acknowledged).toBe(RELEASES);
    expect(result.writesNotSummingTo100).toBe(0);
    expect(result.wrongTrafficSequences).toEqual([]);
    expect(result.repeatedTrafficWrites).toBeLessThanOrEqual(KILLS);
    expect(result.repeatedNotes).toBe(0);
    expect(result.repeatedStatuses).toBe(0);
    expect(result.repeatedGateCalls).toBeLessThanOrEqual(KILLS);
  });
});
