import { useState } from 'preact/hooks';
import { api, ApiError, type BoardRelease } from '../api.js';
import { visibleButtons, type CommandVerb, type Me } from '../policy.js';

/** The command API's answer: ok true (done), null (accepted, outcome pending) — refusals come as errors. */
interface CommandAnswer {
  ok: boolean | null;
  message: string;
}

const LABELS: Record<CommandVerb, string> = {
  approve: 'Approve',
  promote: 'Promote',
  abort: 'Abort',
  pause: 'Pause',
  resume: 'Resume',
  retry: 'Retry',
};

/**
 * Approve / Promote / Abort, for the users the bot's policy allows; each calls the command API as
 * that user. Abort asks for a reason first. The bot's answer (done or refused, in its own words)
 * is shown under the buttons.
 */
export function Actions({ me, release }: { me: Me | null; release: Pick<BoardRelease, 'id' | 'state' | 'service' | 'step'> }) {
  const [busy, setBusy] = useState<CommandVerb | null>(null);
  const [answer, setAnswer] = useState<{ ok: boolean; text: string } | null>(null);
  const [aborting, setAborting] = useState(false);
  const [reason, setReason] = useState('');
  const verbs = visibleButtons(me, release);
  if (verbs.length === 0 && !answer) return null;

  const send = async (command: CommandVerb, why?: string): Promise<void> => {
    setBusy(command);
    setAnswer(null);
    try {
      const body = await api<CommandAnswer>(`/api/releases/${encodeURIComponent(release.id)}/commands`, {
        method: 'POST',
        // The step on screen: an approval binds to the step the user saw, not to wherever the release is by now.
        body: why ? { command, reason: why, step: release.step } : { command, step: release.step },
      });
      setAnswer({ ok: true, text: body?.message ?? `${LABELS[command]}: sent.` });
      setAborting(false);
      setReason('');
    } catch (error) {
      setAnswer({ ok: false, text: error instanceof ApiError ? error.message : String(error) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div class="actions">
      <div class="buttons" role="group" aria-label={`Commands for ${release.service}`}>
        {verbs.map((verb) =>
          verb === 'abort' ? (
            <button key={verb} type="button" class="button danger" aria-expanded={aborting} disabled={busy !== null} onClick={() => setAborting(!aborting)}>
              {LABELS.abort}…
            </button>
          ) : (
            <button key={verb} type="button" class={`button ${verb === 'approve' ? 'primary' : ''}`} disabled={busy !== null} onClick={() => void send(verb)}>
              {busy === verb ? `${LABELS[verb]}…` : LABELS[verb]}
            </button>
          ),
        )}
      </div>
      {aborting ? (
        <form
          class="abort-form"
          onSubmit={(event) => {
            event.preventDefault();
            void send('abort', reason.trim() || undefined);
          }}
        >
          <label>
            Why abort {release.service}? <input value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} placeholder="reason (optional)" />
          </label>
          <button type="submit" class="button danger" disabled={busy !== null}>
            Roll back now
          </button>
        </form>
      ) : null}
      {answer ? (
        <p class={answer.ok ? 'answer ok' : 'answer refused'} role="status">
          {answer.text}
        </p>
      ) : null}
    </div>
  );
}
