import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type ReleasePage as Page } from '../api.js';
import { Actions } from '../components/actions.js';
import { JudgeChart, MetricCharts, WeightChart } from '../components/charts.js';
import { GateFigures } from '../components/gate-figures.js';
import { StateBadge } from '../components/state-badge.js';
import { TrafficBar } from '../components/traffic-bar.js';
import { WaitLine } from '../components/wait-line.js';
import { dateTime, duration, figure } from '../format.js';
import type { Me } from '../policy.js';
import { stepTimings } from '../steps.js';

export function ReleasePage({ id, me, changed, now }: { id: string; me: Me | null; changed: { id: string; at: number } | null; now: number }) {
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<string | null>(null);

  // Read again whenever the stream says this release changed (or after a resync).
  const trigger = changed && (changed.id === id || changed.id === '*') ? changed.at : 0;
  useEffect(() => {
    let current = true;
    api<Page>(`/api/releases/${encodeURIComponent(id)}`).then(
      (loaded) => {
        if (!current) return;
        setPage(loaded);
        setError(null);
      },
      (failure: unknown) => current && setError(failure instanceof ApiError ? failure.message : String(failure)),
    );
    return () => {
      current = false;
    };
  }, [id, trigger]);

  useEffect(() => {
    if (page) document.title = `${page.service} · ${page.state} · canarybot`;
  }, [page?.service, page?.state]);

  if (error && !page) return <p class="error" role="alert">{error}</p>;
  if (!page) return <p>Loading…</p>;
  const timings = stepTimings(page.audit, page, now);
  const links = [
    ['Merge request', page.links.mergeRequest],
    ['Pipeline', page.links.pipeline],
    ['Commit', page.links.commit],
    ['Config commit', page.links.configCommit],
    ['Grafana', page.links.grafana],
    ['Jaeger', page.links.jaeger],
  ].filter((link): link is [string, string] => Boolean(link[1]));

  return (
    <article class="release" aria-labelledby="release-heading">
      <header class="release-head">
        <h1 id="release-heading">
          {page.service} <StateBadge state={page.state} />
        </h1>
        <p class="meta">
          {page.cluster}/{page.namespace} · {page.strategy} · <code>{page.image}</code> · started {dateTime(page.createdAt)}
          {page.endedAt ? ` · ended ${dateTime(page.endedAt)} after ${duration(Date.parse(page.endedAt) - Date.parse(page.createdAt))}` : ''}
          {page.attempt > 1 ? ` · attempt ${page.attempt}` : ''}
        </p>
        {links.length > 0 ? (
          <ul class="links" aria-label="Links">
            {links.map(([label, href]) => (
              <li key={label}>
                <a href={href} rel="noreferrer">
                  {label}
                </a>
              </li>
            ))}
          </ul>
        ) : null}
      </header>

      <TrafficBar traffic={page.traffic} />
      <WaitLine wait={page.wait} />
      {page.reason ? <p class="reason">{page.reason}</p> : null}
      <Actions me={me} release={page} />

      <section aria-labelledby="steps-heading">
        <h2 id="steps-heading">Steps</h2>
        <ol class="timeline">
          {page.steps.map((step) => {
            const timing = timings.get(step.index);
            return (
              <li key={step.index} class={`step ${step.status}`} aria-current={step.index === page.step && step.status === 'running' ? 'step' : undefined}>
                <span class="step-number">{step.index + 1}</span>
                <span class="step-kind">{step.kind}</span>
                <span class="step-weight">canary {step.weight}%</span>
                <span class="step-gates">{step.gates.join(', ')}</span>
                <span class="step-status">{step.status}</span>
                <span class="step-duration">{timing ? duration(timing.ms) : ''}</span>
              </li>
            );
          })}
        </ol>
      </section>

      <section aria-labelledby="charts-heading">
        <h2 id="charts-heading">Charts</h2>
        <div class="charts">
          <WeightChart page={page} />
          <MetricCharts page={page} />
          <JudgeChart page={page} />
        </div>
      </section>

      <section aria-labelledby="gate-heading">
        <h2 id="gate-heading">Last check</h2>
        <GateFigures gate={page.lastGate} />
        {page.judge ? <JudgeTable judge={page.judge} /> : null}
      </section>

      <section aria-labelledby="audit-heading">
        <h2 id="audit-heading">Audit log</h2>
        <div class="table-wrap">
          <table class="audit">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Step</th>
                <th scope="col">What</th>
                <th scope="col">Who</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {page.audit.map((entry, i) => (
                <tr key={i}>
                  <td>{dateTime(entry.at)}</td>
                  <td>{entry.stepIndex === null ? '' : entry.stepIndex + 1}</td>
                  <td>{entry.action}</td>
                  <td>{entry.actor ? `@${entry.actor.username} (${entry.actor.channel})` : ''}</td>
                  <td>{entry.detail ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </article>
  );
}

function JudgeTable({ judge }: { judge: NonNullable<Page['judge']> }) {
  return (
    <div class="table-wrap">
      <table class="judge">
        <caption>
          Judge: score {figure(judge.score)} ({judge.classification}; pass ≥ {judge.thresholds.pass}, marginal ≥ {judge.thresholds.marginal})
          {judge.reason ? ` — ${judge.reason}` : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col">Classification</th>
            <th scope="col">Effect size</th>
            <th scope="col">Canary mean</th>
            <th scope="col">Baseline mean</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {judge.metrics.map((metric) => (
            <tr key={metric.name} class={metric.classification}>
              <td>{metric.name}</td>
              <td>
                {metric.classification}
                {metric.critical ? ' (critical)' : ''}
              </td>
              <td>{figure(metric.effectSize)}</td>
              <td>{figure(metric.experiment.mean)}</td>
              <td>{figure(metric.control.mean)}</td>
              <td>{metric.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
