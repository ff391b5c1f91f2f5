import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { runPlan } from '../../src/cli/plan.js';
import { runValidate } from '../../src/cli/validate.js';

async function run(command: typeof runPlan, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: {} };
  const code = await command(args, io);
  return { code, stdout, stderr };
}

describe('canarybot plan and validate with a release train', () => {
  it('plan <train> prints the members, the lane, the order of the run and of a rollback', async () => {
    const { code, stdout } = await run(runPlan, ['bookinfo-lane', '--dir', 'test/fixtures/trains']);

    expect(code).toBe(0);
    expect(stdout).toBe(`bookinfo-lane: release train of 3 members (test/fixtures/trains/bookinfo-lane.yaml)
lane:   x-canary-lane: bookinfo-v2 (or baggage canary-lane=bookinfo-v2)
entry:  productpage: requests with header x-user-group = beta enter the lane (tagged x-canary-lane: bookinfo-v2)
starts: when pipelines of every member's project succeed within 10m of each other, or /canary train start bookinfo-lane [member=tag …]
target: default / bookinfo

members (the call chain, entry first):
  1. productpage  VirtualService productpage, canary productpage-canary (subset canary)  [entry]
  2. reviews      VirtualService reviews, canary reviews-canary (subset canary)
  3. ratings      VirtualService ratings, canary ratings-canary (subset canary)

order:
  1. deploy the new image to the canary of every member that has one; wait until all are ready (a member without a new image rides on stable: no canary, no lane route)
  2. add the lane routes (lane requests → canary subset, ahead of the default route): reviews, ratings
  3. open the entry at productpage
  4. analysis ×2, every 1s: each member's own metrics on lane traffic, and lane traffic reaching every canary
  5. approval (/canary approve on any member, or in chat)
  6. promote one member at a time, leaf first: ratings, reviews, productpage; close the entry, then remove the lane routes last

on a failed gate, a firing alert or an abort on any member: the whole train rolls back —
  close the entry (productpage's cohort back to stable) → remove the lane routes → scale every canary down
a member whose canary gets no lane traffic while the entry's does is inconclusive: "not propagating x-canary-lane" (never healthy)
`);
  });

  it('plan <train file> reads the members from --dir', async () => {
    const { code, stdout } = await run(runPlan, ['test/fixtures/trains/bookinfo-lane.yaml', '--dir', 'test/fixtures/trains']);

    expect(code).toBe(0);
    expect(stdout).toContain('  3. ratings      VirtualService ratings');
  });

  it('validate lists the train after the pipelines', async () => {
    const { code, stdout } = await run(runValidate, ['test/fixtures/trains']);

    expect(code).toBe(0);
    expect(stdout.split('\n').slice(-3)).toEqual([
      '1 release train:',
      '  bookinfo-lane  productpage → reviews → ratings, lane x-canary-lane: bookinfo-v2, entry productpage (cohort of 1 match block), 2 steps, promote ordered',
      '',
    ]);
  });
});
