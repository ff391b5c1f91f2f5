import { describe, expect, it } from 'vitest';
import { BKMONITOR_PRESET, loadAlertPresets, parseAlertPresets } from '../../src/gates/alert-presets.js';
import { mapAlertPayload } from '../../src/gates/map-alert-payload.js';

describe('alert presets', () => {
  it('normalizes single paths to lists and fills defaults', () => {
    const presets = parseAlertPresets('presets:\n  x:\n    status: { field: s, firing: [1, "on"] }\n    name: a.b\n');

    expect(presets.x).toEqual({
      status: { field: 's', firing: ['1', 'on'] },
      name: ['a.b'],
      labels: {},
      labelMaps: [],
      labelLists: [],
      staticLabels: {},
    });
  });

  it.each([
    ['presets:\n  x:\n    name: a\n', /presets\.x\.status/],
    ['presets:\n  Bad Name:\n    status: { field: s, firing: [a] }\n', /presets/],
    ['presets:\n  x:\n    status: { field: s, firing: [] }\n', /presets\.x\.status\.firing/],
    ['presets: [', /not valid YAML/],
  ])('refuses a bad file with one line naming the field (%#)', (text, message) => {
    expect(() => parseAlertPresets(text, 'presets.yaml')).toThrow(message);
  });

  it('says which file cannot be read', () => {
    expect(() => loadAlertPresets('/nonexistent/presets.yaml')).toThrow('ALERT_PRESETS_FILE /nonexistent/presets.yaml cannot be read: ENOENT');
  });

  it('has bkmonitor built in', () => {
    expect(Object.keys(loadAlertPresets())).toEqual(['bkmonitor']);
  });
});

describe('mapAlertPayload with the bkmonitor preset', () => {
  it('falls back to event.id for the fingerprint and names unknown notice types', () => {
    const mapped = mapAlertPayload(
      [
        { type: 'ANOMALY_NOTICE', event: { id: 17, begin_time: '2026-11-25 12:00:00' }, strategy: { id: 1, name: 'cpu' } },
        { type: 'CLOSE_NOTICE', event: { id: 18 } },
      ],
      BKMONITOR_PRESET,
      'alerts-bkmonitor',
    );

    expect(mapped).toEqual({
      ok: true,
      resolved: 0,
      ignored: ['type "CLOSE_NOTICE" is neither firing nor resolved'],
      firing: [
        {
          name: 'cpu',
          labels: { alertname: 'cpu', strategy_id: '1', source: 'bkmonitor' },
          startsAt: '2026-11-25 12:00:00',
          fingerprint: '17',
          source: 'alerts-bkmonitor',
        },
      ],
    });
  });

  it('does not read inherited properties through paths', () => {
    const mapped = mapAlertPayload({ type: 'ANOMALY_NOTICE', strategy: { name: 'x' } }, { ...BKMONITOR_PRESET, labels: { proto: 'strategy.__proto__.toString' } }, 's');

    expect(mapped.ok && mapped.firing[0]!.labels.proto).toBeUndefined();
  });
});
