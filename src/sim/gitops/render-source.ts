// What a GitOps controller renders from a directory of the config repository at one commit:
// a Helm chart when the directory holds Chart.yaml (as Argo CD detects one; Flux's HelmRelease
// names the chart directory), rendered with go-template.ts (the Go template subset and Helm
// functions it documents; no Helm binary), otherwise the YAML manifests in it with
// kustomization.yaml's `images:` newTag/newName overrides applied.

import { parse, parseAllDocuments } from 'yaml';
import { TemplateSet } from './go-template.js';

/** A chart that cannot be rendered: a missing Chart.yaml field or values file (template errors are go-template's TemplateError). */
export class ChartError extends Error {}

export type Json = Record<string, unknown>;

export interface HelmOptions {
  releaseName: string;
  namespace: string;
  /** Values files in the chart directory (or repository paths from its root, `/`-prefixed) laid over values.yaml, in order. */
  valueFiles?: string[];
  /** Inline values laid over everything else. */
  values?: Json;
}

export interface RenderedSource {
  objects: Json[];
  /** Set when the directory is a Helm chart. */
  chart?: { name: string; version: string; values: Json };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function dirOf(path: string): string {
  const trimmed = path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

function yamlObjects(content: string): Json[] {
  return parseAllDocuments(content)
    .map((document) => document.toJS() as unknown)
    .filter((object): object is Json => isObject(object) && typeof object.kind === 'string');
}

function readValues(files: ReadonlyMap<string, string>, path: string): Json {
  const content = files.get(path);
  if (content === undefined) throw new ChartError(`values file ${path} not found`);
  const values = parse(content) as unknown;
  return isObject(values) ? values : {};
}

/** Helm's values coalescing: maps merged key by key, null deletes a key, anything else replaced by the later source. */
export function coalesceValues(base: unknown, override: unknown): unknown {
  if (!isObject(base) || !isObject(override)) return override === undefined ? base : override;
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else out[key] = coalesceValues(base[key], value);
  }
  return out;
}

/** Render the chart in `dir`: values.yaml, then each values file, then inline values; templates/*.yaml in name order (`_*` files only define). */
export function renderChart(files: ReadonlyMap<string, string>, dir: string, options: HelmOptions): RenderedSource {
  const prefix = dirOf(dir);
  const chart = parse(files.get(`${prefix}Chart.yaml`) ?? '') as { name?: unknown; version?: unknown } | null;
  if (typeof chart?.name !== 'string' || chart.version === undefined) throw new ChartError(`${prefix}Chart.yaml: needs name and version`);
  let values = files.has(`${prefix}values.yaml`) ? readValues(files, `${prefix}values.yaml`) : {};
  for (const file of options.valueFiles ?? []) values = coalesceValues(values, readValues(files, file.startsWith('/') ? file.slice(1) : `${prefix}${file}`)) as Json;
  if (options.values) values = coalesceValues(values, options.values) as Json;
  const templates = [...files.keys()].filter((path) => path.startsWith(`${prefix}templates/`) && !path.slice(`${prefix}templates/`.length).includes('/')).sort();
  const set = new TemplateSet();
  const named = (path: string) => `${chart.name as string}/templates/${path.slice(path.lastIndexOf('/') + 1)}`;
  for (const path of templates) set.add(named(path), files.get(path)!);
  const context = (path: string) => ({
    Values: values,
    Release: { Name: options.releaseName, Namespace: options.namespace, Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1 },
    Chart: { Name: chart.name, Version: String(chart.version) },
    Template: { Name: named(path), BasePath: `${chart.name as string}/templates` },
  });
  const rendered = templates.filter((path) => /\.ya?ml$/.test(path) && !path.slice(path.lastIndexOf('/') + 1).startsWith('_'));
  const objects = rendered.flatMap((path) => yamlObjects(set.execute(named(path), context(path))));
  for (const object of objects) {
    const metadata = (object.metadata ??= {}) as Json;
    metadata.namespace ??= options.namespace;
  }
  return { objects, chart: { name: chart.name, version: String(chart.version), values } };
}

function repositoryOf(image: string): string {
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(0, colon) : image;
}

/** Plain manifests under `dir` with kustomization.yaml image overrides. */
export function renderManifests(files: ReadonlyMap<string, string>, dir: string): RenderedSource {
  const prefix = dirOf(dir);
  const objects: Json[] = [];
  let images: { name: string; newName?: string; newTag?: unknown }[] = [];
  for (const [path, content] of files) {
    if (!path.startsWith(prefix) || !/\.ya?ml$/.test(path)) continue;
    if (path.slice(prefix.length).includes('/')) continue;
    if (/(^|\/)kustomization\.ya?ml$/.test(path)) {
      images = (parse(content) as { images?: typeof images } | null)?.images ?? [];
      continue;
    }
    objects.push(...yamlObjects(content));
  }
  for (const object of objects) {
    const containers = (((object.spec as Json | undefined)?.template as Json | undefined)?.spec as Json | undefined)?.containers as Json[] | undefined;
    for (const container of containers ?? []) {
      const image = String(container.image ?? '');
      const repository = repositoryOf(image);
      const override = images.find((entry) => entry.name === repository);
      if (!override) continue;
      const tag = override.newTag !== undefined ? String(override.newTag) : image.slice(repository.length + 1);
      container.image = `${override.newName ?? repository}${tag ? `:${tag}` : ''}`;
    }
  }
  return { objects };
}

/** A chart when the directory holds Chart.yaml, else manifests. */
export function renderSource(files: ReadonlyMap<string, string>, dir: string, helm: HelmOptions): RenderedSource {
  return files.has(`${dirOf(dir)}Chart.yaml`) ? renderChart(files, dir, helm) : renderManifests(files, dir);
}
