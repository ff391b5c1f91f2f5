// HA soak at the size: three `canarybot serve` processes on one redis-server, 200 concurrent
// releases (every 4th with a failing webhook gate → rolled back), 30 SIGKILLs of random processes
// spread over the run, each process started again at once. Prints the figures as a table and exits
// 1 when an invariant breaks (see test/support/ha-soak.ts; the CI size is test/e2e/ha-soak.e2e.test.ts).
//
//   npx tsx bench/soak/index.ts [releases] [kills] [processes]      (default 200 30 3)
//   SOAK_KILL_SPAN_S (default 240), SOAK_DELIVER_SPAN_S (default 60)

import { cpus, loadavg } from 'node:os';
import { runHaSoak, soakTable } from '../../test/support/ha-soak.js';

const releases = Number(process.argv[2] ?? 200);
const kills = Number(process.argv[3] ?? 30);
const processes = Number(process.argv[4] ?? 3);

async function main(): Promise<void> {
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  const result = await runHaSoak({
    processes,
    releases,
    kills,
    killSpanMs: Number(process.env.SOAK_KILL_SPAN_S ?? 240) * 1000,
    deliverSpanMs: Number(process.env.SOAK_DELIVER_SPAN_S ?? 60) * 1000,
    endTimeoutMs: 1_200_000,
    progress: (line) => console.error(line),
  });
  console.log(`\nHA soak: ${processes} serve processes, ${releases} releases, ${kills} SIGKILLs — machine: ${cpus().length} CPUs, load average at start ${load}\n`);
  console.log(soakTable(result));
  if (result.unexpected.length > 0) console.log(`\nnot as expected:\n${result.unexpected.slice(0, 20).join('\n')}`);
  if (result.wrongTrafficSequences.length > 0) console.log(`\ntraffic steps not as planned:\n${result.wrongTrafficSequences.slice(0, 20).join('\n')}`);
  const broken = result.unexpected.length > 0 || result.webhooks.lost > 0 || result.writesNotSummingTo100 > 0 || result.wrongTrafficSequences.length > 0 || result.repeatedNotes > 0 || result.repeatedStatuses > 0;
  console.log(`\ninvariants: ${broken ? 'BROKEN' : 'held'}`);
  if (broken) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
