// Events as the API server serves them: one object, two APIs. core/v1 Events are stored as they are;
// events.k8s.io/v1 is a view of the same objects with renamed fields (regarding ↔ involvedObject,
// note ↔ message, reportingController ↔ reportingComponent, deprecated* ↔ source, first/lastTimestamp,
// count), and its creates are validated as the documentation says: eventTime, reportingController,
// reportingInstance, action and reason required, type Normal or Warning, note at most 1 kB.
// https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/

import { KubeError } from './status.js';
import type { Obj } from './store.js';

const RENAMED: readonly [core: string, events: string][] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];

function rename(object: Obj, pairs: readonly [string, string][]): Obj {
  const out: Record<string, unknown> = { ...object };
  for (const [from, to] of pairs) {
    if (from in out) {
      out[to] = out[from];
      delete out[from];
    }
  }
  return out as Obj;
}

export function toEventsV1(core: Obj): Obj {
  return rename(core, RENAMED);
}

export function fromEventsV1(event: Obj): Obj {
  return rename(event, RENAMED.map(([core, events]) => [events, core] as [string, string]));
}

function invalidEvent(name: string, causes: { field: string; message: string }[]): KubeError {
  return new KubeError(422, 'Invalid', `Event.events.k8s.io "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, {
    name,
    group: 'events.k8s.io',
    kind: 'Event',
    causes: causes.map((c) => ({ reason: 'FieldValueRequired', message: c.message, field: c.field })),
  });
}

/** Validation of a new events.k8s.io/v1 Event (in its own shape), namespace from the URL. */
export function validateNewEvent(event: Obj, namespace: string): void {
  const causes: { field: string; message: string }[] = [];
  const required = (field: string, max?: number): void => {
    const value = event[field];
    if (typeof value !== 'string' || value === '') causes.push({ field, message: 'Required value' });
    else if (max !== undefined && value.length > max) causes.push({ field, message: `Too long: may not be longer than ${max}` });
  };
  required('eventTime');
  required('reportingController', 128);
  required('reportingInstance', 128);
  required('action', 128);
  required('reason', 128);
  if (event.type !== 'Normal' && event.type !== 'Warning') causes.push({ field: 'type', message: `Unsupported value: ${JSON.stringify(event.type)}: supported values: "Normal", "Warning"` });
  if (typeof event.note === 'string' && Buffer.byteLength(event.note) > 1024) causes.push({ field: 'note', message: 'Too long: may not be longer than 1024' });
  const regarding = event.regarding as { namespace?: string } | undefined;
  if (regarding?.namespace !== undefined && regarding.namespace !== namespace) {
    causes.push({ field: 'regarding.namespace', message: `Invalid value: "${regarding.namespace}": does not match event.namespace` });
  }
  if (causes.length > 0) throw invalidEvent(String(event.metadata?.name ?? ''), causes);
}
