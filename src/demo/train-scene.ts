// The demo's release-train scene on Bookinfo: productpage → reviews → ratings released together on
// the Kubernetes simulator with the real mesh adapters, simulated traffic carrying the lane header
// from beta users through the chain. Run 1: every service passes the header on — the train is
// promoted leaf first. Run 2: reviews' new build drops it, so ratings' canary never sees the lane —
// detected as not propagating the tag and rolled back, entry first. Each run's summary → a file.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ports } from '../core/ports.js';
import type { TrainRun } from '../core/train/train-run.js';
import { TrainRunner } from '../engine/train-runner.js';
import { createGateEvaluator } from '../gates/gate-evaluator.js';
import { renderTrainSummary } from '../gitlab/render-train-summary.js';
import { ClusterRegistry } from '../mesh/cluster-registry.js';
import { IstioTrafficRouter } from '../mesh/traffic-router.js';
import { KubeWorkloadController } from '../mesh/workload-controller.js';
import { loadDefinitions } from '../pipelines/load-definitions.js';
import { KubeApiServer } from '../sim/kube-api-server.js';
import { COHORT_HEADER, LANE_HEADER, TRAIN_DEFINITION, TRAIN_NAME, TRAIN_NAMESPACE, TRAIN_SERVICES, trainChain, trainImage, trainKubeSeed, trainMemberDefinition } from './bookinfo-train.js';
import { LaneTraffic } from './lane-traffic.js';
import type { BoardOutput } from './progress-board.js';

export interface TrainSceneRun {
  n: number;
  state: string;
  reason: string | null;
  durationMs: number;
  file: string;
}

const SILENT = { reply: async () => undefined, report: async () => undefined, notify: async () => undefined };

const STORY: Record<string, (run: TrainRun) => string | null> = {
  'canaries-ready': () => `  canaries ready: ${TRAIN_SERVICES.map((service) => `${service}-canary`).join(', ')}`,
  'lane-open': (run) => `  lane routes on ${run.train.members.slice(1).join(', ')}, then the entry opens at productpage: beta users → every canary`,
  checked: (run) => {
    const figures = run.members.map((member) => `${member.name} ${member.lastCheck?.laneRequests ?? '–'} lane req.${member.lastCheck?.verdict === 'pass' ? '' : ` (${member.lastCheck?.verdict})`}`);
    return `  check ${run.audit.filter((entry) => entry.action === 'check').length}: ${figures.join(', ')}`;
  },
  'approval-needed': () => '  approval requested → the demo release manager approves the train',
  'member-promoted': (run) => `  promoted ${run.audit.at(-1)?.detail ?? ''}`,
  'rolling-back': (run) => `  rolling back the whole train: ${run.reason ?? ''}`,
};

async function oneRun(n: number, drops: string[], outputDir: string, out: BoardOutput): Promise<TrainSceneRun> {
  const started = Date.now();
  const kube = await KubeApiServer.start({ rolloutDelayMs: 150, tls: false });
  const dir = mkdtempSync(join(tmpdir(), 'canarybot-demo-train-'));
  let runner: TrainRunner | null = null;
  try {
    for (const object of trainKubeSeed()) kube.seed(object);
    for (const service of TRAIN_SERVICES) writeFileSync(join(dir, `${service}.yaml`), trainMemberDefinition(service));
    writeFileSync(join(dir, `${TRAIN_NAME}.yaml`), TRAIN_DEFINITION);
    const { definitions, trains, errors } = await loadDefinitions(dir);
    if (errors.length > 0) throw new Error(`the demo's train definitions are invalid: ${errors[0]?.message}`);
    const registry = ClusterRegistry.fromEnvironment({ KUBECONFIG: kube.writeKubeconfig([kube.cluster('default')]) });
    const traffic = new LaneTraffic({
      namespace: TRAIN_NAMESPACE,
      chain: trainChain(),
      virtualService: (service) => kube.object('VirtualService', TRAIN_NAMESPACE, service),
      requestsPerSecond: 40,
      cohort: { share: 0.2, headers: COHORT_HEADER },
      propagated: [LANE_HEADER, 'baggage'],
      drops: new Set(drops),
    });
    const ports: Ports = {
      router: new IstioTrafficRouter(registry),
      workloads: new KubeWorkloadController(registry),
      gates: createGateEvaluator({ metrics: traffic }),
      reporter: { report: SILENT.report },
      notifier: { notify: SILENT.notify },
      replier: { reply: SILENT.reply },
      clock: { now: () => Date.now() },
    };
    const activeRunner = new TrainRunner({
      ports,
      definitions,
      trains,
      onEvent: (run, event) => {
        const line = STORY[event]?.(run);
        if (line) out.write(`${line}\n`);
        if (run.state === 'awaiting-approval') void activeRunner.command(run.id, { type: 'command', verb: 'approve', actor: { username: 'rm-demo', channel: 'gitlab' } });
      },
    });
    runner = activeRunner;
    const started_ = await activeRunner.start(TRAIN_NAME, Object.fromEntries(TRAIN_SERVICES.map((service) => [service, { image: trainImage(service, 'v2') }])), {
      username: 'rm-demo',
      channel: 'gitlab',
    });
    if (!started_.ok) throw new Error(started_.message);
    const run = await Promise.race([
      activeRunner.whenEnded(started_.run.id),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`train run ${n} did not finish within 60 s`)), 60_000).unref()),
    ]);
    const file = join(outputDir, `train-${n}-${TRAIN_NAME}-${run.state}.md`);
    writeFileSync(file, renderTrainSummary(run));
    return { n, state: run.state, reason: run.reason, durationMs: Date.now() - started, file };
  } finally {
    await runner?.close();
    await kube.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Both runs; ok when the first is promoted and the second rolled back for not propagating the tag. */
export async function runTrainScene(outputDir: string, out: BoardOutput): Promise<{ runs: TrainSceneRun[]; ok: boolean }> {
  const runs: TrainSceneRun[] = [];
  out.write(`▶ release train ${TRAIN_NAME}: productpage → reviews → ratings v2 together; beta users (x-user-group: beta) tagged ${LANE_HEADER}\n`);
  runs.push(await oneRun(1, [], outputDir, out));
  out.write(`  ${runs[0]?.state === 'succeeded' ? '✅ promoted leaf first' : `⚠ ${runs[0]?.state}`} in ${((runs[0]?.durationMs ?? 0) / 1000).toFixed(1)} s → ${runs[0]?.file}\n\n`);
  out.write(`▶ release train ${TRAIN_NAME} again, but reviews v2 does not pass ${LANE_HEADER} on to ratings\n`);
  runs.push(await oneRun(2, ['reviews'], outputDir, out));
  out.write(`  ${runs[1]?.state === 'rolled-back' ? '⏪ rolled back' : `⚠ ${runs[1]?.state}`} in ${((runs[1]?.durationMs ?? 0) / 1000).toFixed(1)} s → ${runs[1]?.file}\n\n`);
  const ok = runs[0]?.state === 'succeeded' && runs[1]?.state === 'rolled-back' && (runs[1]?.reason ?? '').startsWith('ratings is not propagating the tag');
  return { runs, ok };
}
