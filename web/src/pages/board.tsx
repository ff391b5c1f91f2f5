import type { BoardRelease } from '../api.js';
import type { BoardState } from '../board-state.js';
import { Actions } from '../components/actions.js';
import { GateFigures } from '../components/gate-figures.js';
import { StateBadge } from '../components/state-badge.js';
import { TrafficBar } from '../components/traffic-bar.js';
import { WaitLine } from '../components/wait-line.js';
import { age } from '../format.js';
import type { Me } from '../policy.js';
import { releasePath } from '../router.js';

const STRATEGY: Record<string, string> = { canary: 'canary', abTest: 'A/B test', mirror: 'mirror', blueGreen: 'blue/green' };

export function Board({ board, me, now, loaded }: { board: BoardState; me: Me | null; now: number; loaded: boolean }) {
  return (
    <>
      <section aria-labelledby="live-heading">
        <h1 id="live-heading">
          Live releases <span class="count">{board.live.length}</span>
        </h1>
        {board.live.length === 0 ? <p class="empty">{loaded ? 'Nothing is being released right now.' : 'Loading…'}</p> : null}
        <ul class="cards">
          {board.live.map((release) => (
            <li key={release.id}>
              <ReleaseCard release={release} me={me} now={now} />
            </li>
          ))}
        </ul>
      </section>
      {board.ended.length > 0 ? (
        <section aria-labelledby="ended-heading">
          <h2 id="ended-heading">Recently ended</h2>
          <ul class="cards ended">
            {board.ended.map((release) => (
              <li key={release.id}>
                <ReleaseCard release={release} me={me} now={now} />
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}

export function ReleaseCard({ release, me, now }: { release: BoardRelease; me: Me | null; now: number }) {
  const step = release.step < 0 ? 'not started' : `step ${release.step + 1}/${release.stepCount}${release.stepKind ? ` · ${release.stepKind}` : ''}`;
  return (
    <article class={`card state-${release.state}`} aria-labelledby={`card-${release.id}`} data-release={release.id}>
      <header class="card-head">
        <h3 id={`card-${release.id}`}>
          <a href={releasePath(release.id)}>{release.service}</a>
        </h3>
        <StateBadge state={release.state} />
      </header>
      <p class="meta">
        <span title="cluster/namespace">
          {release.cluster}/{release.namespace}
        </span>{' '}
        · <span>{STRATEGY[release.strategy] ?? release.strategy}</span> · <span class="card-step">{step}</span> ·{' '}
        <span title={release.createdAt}>{age(release.createdAt, now)} ago</span>
      </p>
      <p class="image" title={release.image}>
        {release.image.split('/').at(-1)}
        {release.mr ? (
          <>
            {' '}
            · {release.mr.url ? <a href={release.mr.url}>!{release.mr.iid}</a> : `!${release.mr.iid}`}
            {release.mr.title ? <span class="muted"> {release.mr.title}</span> : null}
          </>
        ) : null}
      </p>
      <TrafficBar traffic={release.traffic} />
      <GateFigures gate={release.lastGate} />
      <WaitLine wait={release.wait} />
      {release.reason ? <p class="reason">{release.reason}</p> : null}
      <Actions me={me} release={release} />
    </article>
  );
}
