import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mergeRequestHookSchema, noteHookSchema, pipelineHookSchema } from './schema.js';

// Tests break payloads on purpose, so they handle them loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Payload = Record<string, any>;

const load = (name: string): Payload =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/gitlab/${name}.json`, import.meta.url), 'utf8')) as Payload;

const without = (name: string, change: (payload: Payload) => void) => {
  const payload = load(name);
  change(payload);
  return payload;
};

describe('GitLab hook schemas', () => {
  it.each([
    ['pipeline', pipelineHookSchema, 'pipeline-success'],
    ['merge request', mergeRequestHookSchema, 'mr-merged'],
    ['note', noteHookSchema, 'note-on-mr'],
  ] as const)('accepts the documented %s hook and keeps only the fields it describes', (_name, schema, file) => {
    const payload = load(file);

    const parsed = schema.parse(payload) as Record<string, unknown>;

    expect(parsed.object_kind).toBe(payload.object_kind);
    expect(Object.keys(parsed).every((key) => key in payload)).toBe(true);
    expect(Object.keys(parsed).length).toBeLessThan(Object.keys(payload).length);
  });

  it('reads what the pipeline mapping needs', () => {
    const parsed = pipelineHookSchema.parse(load('pipeline-success'));

    expect(parsed.object_attributes).toMatchObject({ id: 31, ref: 'master', sha: 'bcbb5ec396a2c0f828686f14fac9b80b780504f2', status: 'success' });
    expect(parsed.object_attributes.variables).toEqual([{ key: 'NESTOR_PROD_ENVIRONMENT', value: 'us-west-1' }]);
    expect(parsed.merge_request?.iid).toBe(1);
    expect(parsed.project).toMatchObject({ id: 1, path_with_namespace: 'gitlab-org/gitlab-test' });
  });

  it('accepts a pipeline without merge request, user or variables (post-merge pipelines on main)', () => {
    const payload = without('pipeline-success', (p) => {
      p.merge_request = null;
      p.user = null;
      delete p.object_attributes.variables;
    });

    expect(pipelineHookSchema.safeParse(payload).success).toBe(true);
  });

  it.each([
    ['pipeline', pipelineHookSchema, without('pipeline-success', (p) => delete p.object_attributes.sha), 'object_attributes.sha'],
    ['pipeline', pipelineHookSchema, without('pipeline-success', (p) => (p.object_attributes.sha = 'not-a-sha')), 'object_attributes.sha'],
    ['pipeline', pipelineHookSchema, without('pipeline-success', (p) => (p.object_attributes.id = '31')), 'object_attributes.id'],
    ['pipeline', pipelineHookSchema, without('pipeline-success', (p) => (p.project = null)), 'project'],
    ['pipeline', pipelineHookSchema, without('pipeline-success', (p) => (p.object_attributes.variables = [{ key: 1 }])), 'object_attributes.variables.0.key'],
    ['pipeline', pipelineHookSchema, without('pipeline-success', (p) => (p.object_kind = 'build')), 'object_kind'],
    ['merge request', mergeRequestHookSchema, without('mr-merged', (p) => delete p.object_attributes.iid), 'object_attributes.iid'],
    ['note', noteHookSchema, without('note-on-mr', (p) => (p.object_attributes.note = 42)), 'object_attributes.note'],
    ['note', noteHookSchema, without('note-on-mr', (p) => delete p.user), 'user'],
    ['note', noteHookSchema, without('note-on-mr', (p) => (p.merge_request.iid = -1)), 'merge_request.iid'],
  ] as const)('refuses a malformed %s hook at %s', (_name, schema, payload, path) => {
    const result = schema.safeParse(payload);

    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });
});
