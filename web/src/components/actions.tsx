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
  'override-freeze': 'Override freeze',
};

/** Commands that ask for a reason first: optional for an abort, required for an override (it is audited). */
const ASKS_REASON: Partial<Record<CommandVerb, { question: (service: string) => string; submit: string; required: boolean }>> = {
  abort: { question: (service) => `Why abort ${service}?`, submit: 'Roll back now', required: false },
  'override-freeze': { question: (service) => `Why release ${service} through the freeze?`, submit: 'Override for this release', required: true },
};

/**
 * Approve / Promote / Override freeze / Abort, for the users the bot's policy allows; each calls the
 * command API as that user. Abort and Override freeze ask for a reason first. The bot's answer (done
 * or refused, in its own words) is shown under the buttons.
 */
export function Actions({ me, release }: { me: Me | null; release: Pick<BoardRelease, 'id' | 'state' | 'service' | 'step' | 'wait'> }) {
  const [busy, setBusy] = useState<CommandVerb | null>(null);
  const [answer, setAnswer] = useState<{ ok: boolean; text: string } | null>(null);
  const [asking, setAsking] = useState<CommandVerb | null>(null);
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
      setAsking(null);
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
          ASKS_REASON[verb] ? (
            <button
              key={verb}
              type="button"
              class={`button ${verb === 'abort' ? 'danger' : ''}`}
              aria-expanded={asking === verb}
              disabled={busy !== null}
              onClick={() => setAsking(asking === verb ? null : verb)}
            >
              {LABELS[verb]}…
            </button>
          ) : (
            <button key={verb} type="button" class={`button ${verb === 'approve' ? 'primary' : ''}`} disabled={busy !== null} onClick={() => void send(verb)}>
              {busy === verb ? `${LABELS[verb]}…` : LABELS[verb]}
            </button>
          ),
        )}
      </div>
      {asking && ASKS_REASON[asking] ? (
        <form
          class={asking === 'abort' ? 'abort-form' : 'reason-form'}
          onSubmit={(event) => {
            event.preventDefault();
            void send(asking, reason.trim() || undefined);
          }}
        >
          <label>
            {ASKS_REASON[asking].question(release.service)}{' '}
            <input
              value={reason}
              required={ASKS_REASON[asking].required}
              onInput={(e) => setReason((e.target as HTMLInputElement).value)}
              placeholder={ASKS_REASON[asking].required ? 'reason (required, audited)' : 'reason (optional)'}
            />
          </label>
          <button type="submit" class={`button ${asking === 'abort' ? 'danger' : ''}`} disabled={busy !== null || (ASKS_REASON[asking].required && reason.trim() === '')}>
            {ASKS_REASON[asking].submit}
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
