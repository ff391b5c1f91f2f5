import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDefinitionError } from './definition-error.js';
import { loadDefinitionFile, loadDefinitions } from './load-definitions.js';

const root = mkdtempSync(join(tmpdir(), 'canarybot-pipelines-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
function dirWith(files: Record<string, string>): string {
  const dir = join(root, `d${dirs++}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function definition(name: string, project: string, virtualService = name, cluster = 'default'): string {
  return `apiVersion: canarybot/v1
kind: ReleasePipeline
metadata:
  name: ${name}
spec:
  trigger:
    project: ${project}
    image: registry.example.com/${name}
  target:
    cluster: ${cluster}
    namespace: bookinfo
    virtualService: ${virtualService}
    host: ${virtualService}
    stable: { subset: stable, deployment: ${name}-primary }
    canary: { subset: canary, deployment: ${name}-canary, container: ${name} }
  strategy:
    canary:
      steps:
        - setWeight: 100
`;
}

describe('loadDefinitions', () => {
  it('loads the repository pipelines: four valid definitions', async () => {
    const { definitions, errors } = await loadDefinitions('pipelines');

    expect(errors.map(formatDefinitionError)).toEqual([]);
    expect(definitions.map((d) => [d.name, d.strategy.kind])).toEqual([
      ['details', 'blueGreen'],
      ['productpage', 'mirror'],
      ['ratings', 'abTest'],
      ['reviews', 'canary'],
    ]);
    expect(definitions.every((d) => d.file?.startsWith('pipelines/'))).toBe(true);
  });

  it('reads .yaml and .yml only', async () => {
    const dir = dirWith({ 'a.yaml': definition('a', 'g/a'), 'b.yml': definition('b', 'g/b'), 'notes.txt': 'x', 'c.json': '{}' });

    const { definitions } = await loadDefinitions(dir);

    expect(definitions.map((d) => d.name)).toEqual(['a', 'b']);
  });

  it('follows symlinks as in a ConfigMap volume, skipping the hidden ..data entries', async () => {
    const dir = dirWith({});
    mkdirSync(join(dir, '..2026_11_25'));
    writeFileSync(join(dir, '..2026_11_25', 'a.yaml'), definition('a', 'g/a'));
    symlinkSync('..2026_11_25', join(dir, '..data'));
    symlinkSync(join('..data', 'a.yaml'), join(dir, 'a.yaml'));
    symlinkSync('missing.yaml', join(dir, 'dangling.yaml'));

    const { definitions, errors } = await loadDefinitions(dir);

    expect(definitions.map((d) => d.name)).toEqual(['a']);
    expect(errors.map(formatDefinitionError)).toEqual([`${join(dir, 'dangling.yaml')}:1:1: cannot read the file (ENOENT)`]);
  });

  it('reports every file, every error, and keeps the valid definitions', async () => {
    const dir = dirWith({
      'a.yaml': definition('a', 'g/a').replace('setWeight: 100', 'setWeight: 120'),
      'b.yaml': definition('b', 'g/b'),
      'c.yaml': 'kind: [',
    });

    const { definitions, errors } = await loadDefinitions(dir);

    expect(definitions.map((d) => d.name)).toEqual(['b']);
    expect(errors.map((e) => [e.file, e.path])).toEqual(
      expect.arrayContaining([
        [join(dir, 'a.yaml'), 'spec.strategy.canary.steps[0].setWeight'],
        [join(dir, 'c.yaml'), ''],
      ]),
    );
  });

  it('refuses two definitions with the same name, on both files', async () => {
    const dir = dirWith({ 'a.yaml': definition('same', 'g/a', 'vs-a'), 'b.yaml': definition('same', 'g/b', 'vs-b') });

    const { definitions, errors } = await loadDefinitions(dir);

    expect(definitions).toEqual([]);
    expect(errors.map(formatDefinitionError)).toEqual([
      `${join(dir, 'b.yaml')}:4:3: metadata.name: "same" is also the name in ${join(dir, 'a.yaml')}`,
      `${join(dir, 'a.yaml')}:4:3: metadata.name: "same" is also the name in ${join(dir, 'b.yaml')}`,
    ]);
  });

  it('refuses two definitions claiming the same project, branch and route, on both files', async () => {
    const dir = dirWith({ 'a.yaml': definition('a', 'g/app', 'shared'), 'b.yaml': definition('b', 'g/app', 'shared') });

    const { definitions, errors } = await loadDefinitions(dir);

    expect(definitions).toEqual([]);
    expect(errors).toHaveLength(2);
    expect(errors.map((e) => [e.file, e.line, e.path])).toEqual([
      [join(dir, 'b.yaml'), 9, 'spec.target'],
      [join(dir, 'a.yaml'), 9, 'spec.target'],
    ]);
    expect(errors[0]?.message).toMatch(/g\/app@main → default\/bookinfo\/shared .* is also released by .*a\.yaml/);
  });

  it('allows the same project released to different clusters', async () => {
    const dir = dirWith({ 'a.yaml': definition('a', 'g/app', 'shared', 'east'), 'b.yaml': definition('b', 'g/app', 'shared', 'west') });

    const { definitions, errors } = await loadDefinitions(dir);

    expect(errors).toEqual([]);
    expect(definitions).toHaveLength(2);
  });

  it('reports a missing directory', async () => {
    const { errors } = await loadDefinitions(join(root, 'nope'));

    expect(errors.map((e) => e.message)).toEqual(['cannot read the directory (ENOENT)']);
  });
});

describe('loadDefinitionFile', () => {
  it('loads one file', async () => {
    const { definition, errors } = await loadDefinitionFile('pipelines/reviews.yaml');

    expect(errors).toEqual([]);
    expect(definition?.name).toBe('reviews');
    expect(definition?.strategy.steps.map((s) => s.kind)).toContain('approval');
  });

  it('gives three located errors for the three-mistakes fixture', async () => {
    const { definition, errors } = await loadDefinitionFile('test/fixtures/pipelines/three-mistakes.yaml');

    expect(definition).toBeNull();
    expect(errors.map(formatDefinitionError)).toEqual([
      'test/fixtures/pipelines/three-mistakes.yaml:18:22: spec.strategy.canary.steps[0].setWeight: must be between 0 and 100 (got 120)',
      'test/fixtures/pipelines/three-mistakes.yaml:19:30: spec.strategy.canary.steps[1].pause.duration: must be a duration such as 30s, 5m or 1h30m (got "5 minutes")',
      'test/fixtures/pipelines/three-mistakes.yaml:23:15: spec.analysis.metrics[0].name: unknown metric "custom-errors": use a built-in (request-success-rate, request-duration-p99, request-count) or give a query',
    ]);
  });

  it('reports a missing file', async () => {
    const { errors } = await loadDefinitionFile('nope.yaml');

    expect(errors.map(formatDefinitionError)).toEqual(['nope.yaml:1:1: cannot read the file (ENOENT)']);
  });
});
