import type { BoardRelease } from '../api.js';
import { dateTime } from '../format.js';

/** The pinned generic "why is this release not moving": its sentence, until when, and a link. */
export function WaitLine({ wait }: { wait: BoardRelease['wait'] }) {
  if (!wait) return null;
  return (
    <p class={`wait wait-${wait.kind}`}>
      <span class="wait-sentence">{wait.sentence}</span>
      {wait.until ? <span class="wait-until"> Until {dateTime(wait.until)}.</span> : null}
      {wait.link ? (
        <>
          {' '}
          <a href={wait.link} rel="noreferrer" target="_blank">
            Details
          </a>
        </>
      ) : null}
    </p>
  );
}
