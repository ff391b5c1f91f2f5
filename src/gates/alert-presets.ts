import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

// A field mapping that turns some tool's JSON alert callback into alerts: which field says firing or
// resolved, which fields become labels, where name, fingerprint and start time are. Paths are dotted
// (`event.begin_time`, `items.0.id`).

const paths = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((p) => (Array.isArray(p) ? p : [p]));

export const alertPresetSchema = z.object({
  /** Path to an array of alerts in the body; unset: the body is one alert (or a JSON array of alerts). */
  alerts: z.string().min(1).optional(),
  status: z.object({
    field: z.string().min(1),
    /** Values of `field` that mean firing (compared as strings). */
    firing: z.array(z.union([z.string(), z.number(), z.boolean()]).transform(String)).min(1),
    /** Values that mean resolved; other values are ignored. Unset: everything not firing is resolved. */
    resolved: z.array(z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  }),
  /** Paths tried in order for the alert's name; default the `alertname` label. */
  name: paths.optional(),
  /** Paths tried in order for a stable id; default a hash of the labels. */
  fingerprint: paths.optional(),
  startsAt: paths.optional(),
  /** label name → path of a scalar value. These win over maps and lists. */
  labels: z.record(z.string(), z.string().min(1)).default({}),
  /** Paths of objects whose scalar entries all become labels. */
  labelMaps: z.array(z.string().min(1)).default([]),
  /** Paths of arrays of `{ <key>: name, <value>: value }` entries that become labels. */
  labelLists: z.array(z.object({ path: z.string().min(1), key: z.string().min(1), value: z.string().min(1) })).default([]),
  /** Fixed labels added to every alert of this preset. */
  staticLabels: z.record(z.string(), z.string()).default({}),
});

export type AlertPreset = z.output<typeof alertPresetSchema>;
export type AlertPresetInput = z.input<typeof alertPresetSchema>;

/**
 * BlueKing monitor (bkmonitor) alarm callbacks: `type` ANOMALY_NOTICE (firing) / RECOVERY_NOTICE
 * (resolved), `event` {id, event_id, level, begin_time…}, `strategy` {id, name…}, `bk_biz_id`, and
 * dimensions both as the anomaly record's map and as the newer `[{key, value}]` list.
 */
export const BKMONITOR_PRESET: AlertPreset = alertPresetSchema.parse({
  status: { field: 'type', firing: ['ANOMALY_NOTICE'], resolved: ['RECOVERY_NOTICE'] },
  name: ['strategy.name'],
  fingerprint: ['event.event_id', 'event.id'],
  startsAt: ['event.begin_time', 'event.create_time'],
  labels: {
    alertname: 'strategy.name',
    strategy_id: 'strategy.id',
    bk_biz_id: 'bk_biz_id',
    level: 'event.level',
    level_name: 'event.level_name',
  },
  labelMaps: ['latest_anomaly_record.origin_alarm.data.dimensions'],
  labelLists: [{ path: 'dimensions', key: 'key', value: 'value' }],
  staticLabels: { source: 'bkmonitor' },
} satisfies AlertPresetInput);

export const BUILTIN_ALERT_PRESETS: Readonly<Record<string, AlertPreset>> = { bkmonitor: BKMONITOR_PRESET };

const presetsFileSchema = z.object({ presets: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), alertPresetSchema) });

/** Parse an ALERT_PRESETS_FILE's text (YAML `presets: { <name>: <mapping> }`); throws one line naming the field. */
export function parseAlertPresets(text: string, file = 'ALERT_PRESETS_FILE'): Record<string, AlertPreset> {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new Error(`${file}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = presetsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data.presets;
}

/** The built-in presets overlaid with the file's (a file may redefine `bkmonitor`). */
export function loadAlertPresets(file?: string): Record<string, AlertPreset> {
  if (!file) return { ...BUILTIN_ALERT_PRESETS };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`ALERT_PRESETS_FILE ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return { ...BUILTIN_ALERT_PRESETS, ...parseAlertPresets(text, file) };
}
