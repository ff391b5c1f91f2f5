import type { AlertRequest } from '../engine/api.js';
import { labelFingerprint } from './alert-fingerprint.js';
import type { AlertPreset } from './alert-presets.js';

export type MappedAlerts =
  | { ok: true; firing: AlertRequest[]; resolved: number; ignored: string[] }
  | { ok: false; message: string };

/** Apply a preset to a JSON body: the firing alerts as engine requests, or why the body is malformed. */
export function mapAlertPayload(body: unknown, preset: AlertPreset, source: string): MappedAlerts {
  let items: unknown[];
  if (preset.alerts !== undefined) {
    const list = at(body, preset.alerts);
    if (!Array.isArray(list)) return { ok: false, message: `${preset.alerts} is not an array` };
    items = list;
  } else {
    items = Array.isArray(body) ? body : [body];
  }
  if (items.length === 0) return { ok: false, message: 'no alerts in the body' };

  const firing: AlertRequest[] = [];
  const ignored: string[] = [];
  let resolved = 0;
  for (const [index, item] of items.entries()) {
    if (!isObject(item)) return { ok: false, message: `alert ${index} is not a JSON object` };
    const state = scalar(at(item, preset.status.field));
    if (state === undefined) return { ok: false, message: `alert ${index} has no ${preset.status.field}` };
    if (!preset.status.firing.includes(state)) {
      if (preset.status.resolved === undefined || preset.status.resolved.includes(state)) resolved++;
      else ignored.push(`${preset.status.field} "${state}" is neither firing nor resolved`);
      continue;
    }
    const labels = labelsOf(item, preset);
    const name = first(item, preset.name) ?? labels.alertname ?? source;
    if (labels.alertname === undefined) labels.alertname = name;
    firing.push({
      name,
      labels,
      startsAt: first(item, preset.startsAt) ?? '',
      fingerprint: first(item, preset.fingerprint) ?? labelFingerprint(labels),
      source,
    });
  }
  return { ok: true, firing, resolved, ignored };
}

function labelsOf(item: Record<string, unknown>, preset: AlertPreset): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const path of preset.labelMaps) {
    const map = at(item, path);
    if (!isObject(map)) continue;
    for (const [key, value] of Object.entries(map)) {
      const text = scalar(value);
      if (text !== undefined) labels[key] = text;
    }
  }
  for (const list of preset.labelLists) {
    const entries = at(item, list.path);
    if (!Array.isArray(entries)) continue;
    for (const entry of entries) {
      const key = scalar(at(entry, list.key));
      const value = scalar(at(entry, list.value));
      if (key !== undefined && key !== '' && value !== undefined) labels[key] = value;
    }
  }
  for (const [label, path] of Object.entries(preset.labels)) {
    const value = scalar(at(item, path));
    if (value !== undefined) labels[label] = value;
  }
  return { ...labels, ...preset.staticLabels };
}

function first(item: unknown, paths: readonly string[] | undefined): string | undefined {
  for (const path of paths ?? []) {
    const value = scalar(at(item, path));
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/** A label value: strings, numbers and booleans as text, arrays of those joined with commas. */
function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.length > 0 && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) return value.join(',');
  return undefined;
}

function at(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (Array.isArray(current) && /^\d+$/.test(key)) current = current[Number(key)];
    else if (isObject(current) && Object.hasOwn(current, key)) current = current[key];
    else return undefined;
  }
  return current;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
