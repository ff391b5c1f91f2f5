// `helm template` for charts/canarybot, without Helm: values.yaml merged with the given values (Helm's
// coalescing: maps merge, anything else replaces, null deletes), checked against values.schema.json
// as Helm does before rendering, then every template rendered with .Values, .Release, .Chart,
// .Capabilities, .Template and .Files. Documents are split on `---` and parsed as YAML.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { TemplateSet } from '../../../src/sim/gitops/go-template.js';
import { coalesceValues } from '../../../src/sim/gitops/render-source.js';

export interface RenderOptions {
  chartDir: string;
  values?: Record<string, unknown>;
  releaseName?: string;
  namespace?: string;
}

export interface RenderedObject {
  template: string;
  object: Record<string, unknown>;
}

export class ChartRenderError extends Error {}

const isMap = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

export function renderChart(options: RenderOptions): { objects: RenderedObject[]; notes: string } {
  const { chartDir } = options;
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const defaults = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const values = coalesceValues(defaults, options.values ?? {}) as Record<string, unknown>;

  const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  if (!validate(values)) {
    throw new ChartRenderError(`values don't meet the specifications of the schema: ${JSON.stringify(validate.errors)}`);
  }

  const name = String(chart.name);
  const files = {
    Get: (path: unknown) => {
      try {
        return readFileSync(join(chartDir, String(path)), 'utf8');
      } catch {
        return ''; // Helm's .Files.Get answers "" for a missing file
      }
    },
  };
  const templatesDir = join(chartDir, 'templates');
  const templateFiles = readdirSync(templatesDir).sort();
  const set = new TemplateSet();
  for (const file of templateFiles) set.add(`${name}/templates/${file}`, readFileSync(join(templatesDir, file), 'utf8'));

  const context = (file: string) => ({
    Values: values,
    Release: { Name: options.releaseName ?? 'canarybot', Namespace: options.namespace ?? 'canarybot', Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1 },
    Chart: { Name: name, Version: chart.version, AppVersion: chart.appVersion },
    Capabilities: { KubeVersion: { Version: 'v1.34.0', Major: '1', Minor: '34', GitVersion: 'v1.34.0' } },
    Template: { Name: `${name}/templates/${file}`, BasePath: `${name}/templates` },
    Files: files,
  });

  const objects: RenderedObject[] = [];
  let notes = '';
  for (const file of templateFiles) {
    if (file.startsWith('_')) continue;
    const path = `${name}/templates/${file}`;
    const text = set.execute(path, context(file));
    if (file === 'NOTES.txt') {
      notes = text;
      continue;
    }
    for (const doc of parseAllDocuments(text, { uniqueKeys: true })) {
      if (!('errors' in doc) || doc.errors.length > 0) {
        const message = 'errors' in doc ? doc.errors[0]?.message : 'not a YAML document';
        throw new ChartRenderError(`${path}: YAML parse error: ${message}\n${text}`);
      }
      const object = doc.toJS() as unknown;
      if (object === null || object === undefined) continue;
      if (!isMap(object)) throw new ChartRenderError(`${path}: a document that is not an object`);
      objects.push({ template: path, object });
    }
  }
  return { objects, notes };
}
