// The release-train state machine: (run, input, now) → (next run, effects[, reply]). Pure and
// deterministic, like `decide` for one release; the phases and their order are in train-phases.ts.

import { combineVerdicts, type Measurement, type Verdict } from '../gate.js';
import type { TrainDraft } from './train-draft.js';
import { draftTrain, entryName, finishTrain, memberOf, POLL_MS, report, retryLater, trainAudit, unchangedTrain, wakeTrainAt } from './train-draft.js';
import { recordMemberGitOps } from './train-gitops.js';
import { ACTION_OF_PHASE, gitOpsResult, revertSyncFailed } from './train-gitops-result.js';
import { begin, endTrain, enterStep, memberPhaseEffect, neededChecks, phaseDone, phaseEffect, redrive, scaleDown, startPromotion, startRollback } from './train-phases.js';
import { trainWait } from './train-wait.js';
import { isTrainLive, type MemberCheck, type TrainDecision, type TrainInput, type TrainRun } from './train-run.js';
import { phaseTraffic } from './train-draft.js';

export function decideTrain(run: TrainRun, input: TrainInput, now: number): TrainDecision {
  switch (input.type) {
    case 'start':
      if (run.state !== 'pending' || run.phase !== 'created') return unchangedTrain(run);
      return step(run, now, (d) => {
        report(d, 'started');
        begin(d, 'pending', 'preflight', d.next.members.filter((member) => member.image !== null).map((member) => member.name));
      });
    case 'recover':
      return onRecover(run, now);
    case 'tick':
      return onTick(run, input.key, now);
    case 'member-result':
      return onMemberResult(run, input, now);
    case 'gitops-result':
      if (!run.waitingOn.includes(input.write) || ACTION_OF_PHASE[run.phase] !== input.action) return unchangedTrain(run);
      return step(run, now, (d) => gitOpsResult(d, input));
    case 'lane-check':
      return onLaneCheck(run, input, now);
    case 'command':
      return onCommand(run, input, now);
    case 'alert':
      if (!isTrainLive(run.state) || run.state === 'rolling-back') return unchangedTrain(run);
      return step(run, now, (d) => startRollback(d, 'rolled-back', `alert ${input.name} is firing for ${input.member}`));
  }
}

function step(run: TrainRun, now: number, change: (d: TrainDraft) => void): TrainDecision {
  const d = draftTrain(run, now);
  change(d);
  d.next.wait = trainWait(d.next, run.wait, now);
  return finishTrain(d);
}

function onTick(run: TrainRun, key: string | undefined, now: number): TrainDecision {
  if (!isTrainLive(run.state)) return unchangedTrain(run);
  if (key !== undefined && key !== run.wakeKey) return unchangedTrain(run);
  return step(run, now, (d) => {
    const r = d.next;
    r.wakeKey = null;
    if (r.state === 'deploying' && r.deadlineAt !== null && now >= r.deadlineAt) {
      startRollback(d, 'rolled-back', `the canaries of ${r.waitingOn.join(', ')} were not ready within the readiness deadline`);
      return;
    }
    switch (r.phase) {
      case 'created':
        report(d, 'started');
        begin(d, 'pending', 'preflight', r.members.filter((member) => member.image !== null).map((member) => member.name));
        return;
      case 'settle':
        if (r.state === 'progressing') enterStep(d, r.stepIndex + 1);
        else scaleDown(d);
        return;
      case 'pause':
        enterStep(d, r.stepIndex + 1);
        return;
      case 'analysis':
        r.phase = 'checking';
        redrive(d);
        return;
      default:
        // A poll, a retry or a recovery: the phase's effects again (each is idempotent).
        redrive(d);
    }
  });
}

/**
 * After a restart nothing of the run's in-flight work survives but the record: the outstanding
 * effects of its phase are asked for again (each is idempotent), or its wait is scheduled again at
 * the same time with the same key. A run waiting for a person needs nothing.
 */
function onRecover(run: TrainRun, now: number): TrainDecision {
  if (!isTrainLive(run.state)) return unchangedTrain(run);
  if (run.phase === 'created') return decideTrain(run, { type: 'start' }, now);
  if (run.waitingOn.length > 0 || run.phase === 'checking') {
    return step(run, now, (d) => {
      const r = d.next;
      // The time the bot was away is not held against the canaries: the deadline keeps what was left of it.
      if (r.deadlineAt !== null) r.deadlineAt = now + Math.max(0, r.deadlineAt - run.updatedAt);
      trainAudit(d, 'resumed', `${r.state}/${r.phase}${r.waitingOn.length > 0 ? ` for ${r.waitingOn.join(', ')}` : ''}`);
      redrive(d);
    });
  }
  if (run.wakeKey !== null && run.wakeAt !== null) return { next: run, effects: [{ type: 'schedule-tick', at: run.wakeAt, key: run.wakeKey }] };
  return unchangedTrain(run);
}

function onMemberResult(run: TrainRun, input: Extract<TrainInput, { type: 'member-result' }>, now: number): TrainDecision {
  const { member: name, result } = input;
  if (!run.waitingOn.includes(name) || memberPhaseEffect(run, name) !== result.effect) return unchangedTrain(run);
  return step(run, now, (d) => {
    const r = d.next;
    const member = memberOf(r, name);
    switch (result.outcome) {
      case 'ok':
        // Pre-flight reads the stable image before anything changes; a rollback after promotion puts it back.
        if (result.effect === 'preflight' && result.stableImage !== undefined) member.stableImageBefore = result.stableImage;
        if (result.effect === 'preflight') recordMemberGitOps(d, name, result.gitops);
        settled(d, name);
        return;
      case 'progressing':
        if (r.state === 'rolling-back' && result.effect === 'gitops-sync' && r.deadlineAt !== null && now >= r.deadlineAt) {
          revertSyncFailed(d, name, 'timeout');
          return;
        }
        if (r.deadlineAt !== null && now >= r.deadlineAt) {
          if (r.state === 'deploying') startRollback(d, 'rolled-back', `${name}: the canary was not ready within the readiness deadline${result.message ? ` (${result.message})` : ''}`);
          else if (r.state === 'promoting' && result.effect === 'gitops-sync') startRollback(d, 'rolled-back', `${name}: the GitOps controller did not apply the train's commit in time${result.message ? ` (${result.message})` : ''}`);
          else if (r.state === 'promoting') startRollback(d, 'rolled-back', `${name}: the stable Deployment did not become ready with ${member.image}${result.message ? ` (${result.message})` : ''}`);
          else wakeTrainAt(d, now + POLL_MS, `poll-${now}`);
          return;
        }
        wakeTrainAt(d, now + POLL_MS, `poll-${now}`);
        return;
      case 'transient':
        retryLater(d, `${name}: ${result.effect} ${result.code}: ${result.message}`);
        return;
      case 'terminal':
        if (r.state === 'rolling-back' && result.effect === 'gitops-sync') revertSyncFailed(d, name, result.message);
        else terminal(d, name, `${name}: ${result.effect} failed: ${result.message}`);
    }
  });
}

/** One member's result for the phase is in; the phase is done when the last one is. */
function settled(d: TrainDraft, name: string): void {
  const r = d.next;
  const member = memberOf(r, name);
  switch (phaseEffect(r)) {
    case 'ensure-canary':
      member.canary = 'ready';
      break;
    case 'set-traffic':
      member.traffic = phaseTraffic(r);
      break;
    case 'ensure-stable':
      member.stable = r.phase === 'restore' ? 'restored' : 'promoted';
      if (r.phase === 'stable') {
        trainAudit(d, 'member-promoted', `${name} ${member.image}`);
        report(d, 'member-promoted');
      }
      break;
    case 'scale-canary':
      member.canary = 'scaled-down';
      break;
    default:
      break;
  }
  r.waitingOn = r.waitingOn.filter((other) => other !== name);
  if (r.phase === 'close-entry' || r.phase === 'unlane') r.trafficChangedAt = d.now;
  if (r.waitingOn.length === 0) phaseDone(d);
}

/** A permanent error: forward phases roll the train back; a rollback never stops while traffic may be on a canary. */
function terminal(d: TrainDraft, name: string, message: string): void {
  const r = d.next;
  if (r.state !== 'rolling-back') {
    startRollback(d, 'rolled-back', message);
    return;
  }
  if (r.phase === 'close-entry' || r.phase === 'unlane') {
    retryLater(d, message);
    return;
  }
  if (r.phase === 'scale-down') {
    trainAudit(d, 'scale-down-failed', message);
    memberOf(r, name).canary = 'scaled-down';
    r.waitingOn = r.waitingOn.filter((other) => other !== name);
    if (r.waitingOn.length === 0) phaseDone(d);
    return;
  }
  endTrain(d, 'failed', `${r.reason ?? 'rollback'}; then ${message}`);
}

const SEVERITY: Record<Verdict, number> = { pass: 0, inconclusive: 1, error: 2, fail: 3 };

/**
 * The lane as a whole: each member's own verdict, except that a member whose canary served no lane
 * requests while the entry's did is not propagating the tag — inconclusive, never healthy.
 */
export function judgeLane(run: TrainRun, results: Extract<TrainInput, { type: 'lane-check' }>['members']): { verdict: Verdict; checks: Record<string, MemberCheck> } {
  const entry = results.find((result) => result.member === entryName(run));
  const entryRequests = entry?.laneRequests ?? 0;
  const { header, baggage } = run.train.lane;
  const checks: Record<string, MemberCheck> = {};
  for (const result of results) {
    let check: MemberCheck = { verdict: result.check.verdict, laneRequests: result.laneRequests, measurements: result.check.measurements };
    if (result.member !== entryName(run) && entryRequests > 0 && result.laneRequests === 0) {
      check = {
        ...check,
        verdict: SEVERITY[check.verdict] > SEVERITY.inconclusive ? check.verdict : 'inconclusive',
        message: `${result.member} is not propagating the tag: its canary got no lane requests while ${entryName(run)}'s got ${entryRequests} (each service must pass ${header} on${baggage ? ', or W3C baggage' : ''})`,
      };
    } else if (check.verdict !== 'pass') {
      check = { ...check, message: `${result.member}: ${describeFailure(check.measurements) || check.verdict}` };
    }
    checks[result.member] = check;
  }
  const verdict = combineVerdicts(Object.values(checks).map((check) => ({ name: '', verdict: check.verdict, value: null, threshold: '' })));
  return { verdict, checks };
}

function describeFailure(measurements: readonly Measurement[]): string {
  return measurements
    .filter((measurement) => measurement.verdict !== 'pass')
    .map((measurement) => measurement.message ?? `${measurement.name} ${measurement.value ?? 'no data'} (wanted ${measurement.threshold})`)
    .join('; ');
}

function onLaneCheck(run: TrainRun, input: Extract<TrainInput, { type: 'lane-check' }>, now: number): TrainDecision {
  if (run.state !== 'progressing' || run.phase !== 'checking' || input.stepIndex !== run.stepIndex || input.check !== (run.analysis?.checks ?? 0)) {
    return unchangedTrain(run);
  }
  return step(run, now, (d) => {
    const r = d.next;
    const { verdict, checks } = judgeLane(r, input.members);
    r.members = r.members.map((member) => (checks[member.name] ? { ...member, lastCheck: checks[member.name] ?? null } : member));
    const progress = { ...(r.analysis ?? { passed: 0, failed: 0, inconclusive: 0, checks: 0 }) };
    progress.checks += 1;
    const notes = Object.values(checks)
      .map((check) => check.message)
      .filter((message): message is string => message !== undefined);
    trainAudit(d, 'check', `${verdict}${notes.length > 0 ? `: ${notes.join('; ')}` : ''}`);
    report(d, 'checked');
    const limits = r.train.analysis;
    if (verdict === 'fail') progress.failed += 1;
    else if (verdict === 'pass') progress.passed += 1;
    else progress.inconclusive += 1;
    r.analysis = progress;
    if (progress.failed > limits.failureLimit) {
      startRollback(d, 'rolled-back', notes.join('; ') || 'the lane failed its analysis');
      return;
    }
    if (progress.inconclusive > limits.inconclusiveLimit) {
      startRollback(d, 'rolled-back', `${notes.join('; ') || 'the lane had too little traffic to judge'} (${progress.inconclusive} inconclusive checks, limit ${limits.inconclusiveLimit})`);
      return;
    }
    if (progress.passed >= neededChecks(r)) {
      enterStep(d, r.stepIndex + 1);
      return;
    }
    r.phase = 'analysis';
    wakeTrainAt(d, now + r.train.analysis.intervalMs, `check-${progress.checks}`);
  });
}

function onCommand(run: TrainRun, input: Extract<TrainInput, { type: 'command' }>, now: number): TrainDecision {
  const who = `@${input.actor.username}`;
  const name = run.train.name;
  if (!isTrainLive(run.state)) return unchangedTrain(run, { ok: false, message: `train ${name} has ended (${run.state})` });
  if (input.refusal !== undefined) {
    const refusal = input.refusal;
    const decision = step(run, now, (d) => trainAudit(d, 'refused', `${input.verb}: ${refusal}`, input.actor));
    return { ...decision, reply: { ok: false, message: refusal } };
  }
  switch (input.verb) {
    case 'approve':
      if (run.state !== 'awaiting-approval') return unchangedTrain(run, { ok: false, message: `train ${name} is not waiting for an approval (it is ${run.state})` });
      return reply(
        step(run, now, (d) => {
          trainAudit(d, 'approved', undefined, input.actor);
          enterStep(d, d.next.stepIndex + 1);
        }),
        `train ${name} approved by ${who}`,
      );
    case 'promote':
      if (run.state !== 'progressing' && run.state !== 'awaiting-approval') {
        return unchangedTrain(run, { ok: false, message: `train ${name} cannot be promoted while it is ${run.state}` });
      }
      return reply(
        step(run, now, (d) => startPromotion(d, `promoted by ${who}`, input.actor)),
        `train ${name} promoting, by ${who}`,
      );
    case 'abort':
      if (run.state === 'rolling-back') return unchangedTrain(run, { ok: false, message: `train ${name} is already rolling back` });
      return reply(
        step(run, now, (d) => startRollback(d, 'aborted', `aborted by ${who}${input.reason ? `: ${input.reason}` : ''}`, input.actor)),
        `train ${name} rolling back, aborted by ${who}`,
      );
  }
}

function reply(decision: TrainDecision, message: string): TrainDecision {
  return { ...decision, reply: { ok: true, message } };
}
