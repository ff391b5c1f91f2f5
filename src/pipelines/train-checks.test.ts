import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDefinitionError } from './definition-error.js';
import { loadDefinitions } from './load-definitions.js';

const FIXTURES = 'test/fixtures/trains';
const root = mkdtempSync(join(tmpdir(), 'canarybot-trains-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
/** The Bookinfo train fixtures, with some files replaced or added. */
function bookinfoWith(files: Record<string, string | null> = {}): string {
  const dir = join(root, `d${dirs++}`);
  cpSync(FIXTURES, dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    if (text === null) rmSync(join(dir, name));
    else writeFileSync(join(dir, name), text);
  }
  return dir;
}

const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

describe('loadDefinitions with a ReleaseTrain', () => {
  it('loads the three pipelines and the train', async () => {
    const { definitions, trains, errors } = await loadDefinitions(FIXTURES);

    expect(errors).toEqual([]);
    expect(definitions.map((definition) => definition.name)).toEqual(['productpage', 'ratings', 'reviews']);
    expect(trains.map((train) => [train.name, train.members, train.lane])).toEqual([
      ['bookinfo-lane', ['productpage', 'reviews', 'ratings'], { header: 'x-canary-lane', value: 'bookinfo-v2', baggage: true }],
    ]);
  });

  it('names a member that is not a ReleasePipeline here, at the member', async () => {
    const dir = bookinfoWith({ 'ratings.yaml': null });

    const { trains, errors } = await loadDefinitions(dir);

    expect(trains).toEqual([]);
    expect(errors.map(formatDefinitionError)).toEqual([
      `${dir}/bookinfo-lane.yaml:7:35: spec.members[2]: no ReleasePipeline named "ratings" in this directory (found: productpage, reviews)`,
    ]);
  });

  it('refuses members in another namespace or on other clusters', async () => {
    const dir = bookinfoWith({
      'reviews.yaml': fixture('reviews.yaml').replace('namespace: bookinfo', 'namespace: shop'),
      'ratings.yaml': fixture('ratings.yaml').replace('namespace: bookinfo', 'cluster: [staging, production]\n    namespace: bookinfo'),
    });

    const { errors } = await loadDefinitions(dir);

    expect(errors.map((error) => `${error.path}: ${error.message}`)).toEqual([
      'spec.members[1]: releases to namespace shop, productpage to bookinfo: a lane spans one namespace',
      'spec.members[2]: releases to clusters staging, production, productpage to default: members share one set of clusters',
    ]);
  });

  it('refuses a member riding in two trains, and a train named like a pipeline', async () => {
    const second = fixture('bookinfo-lane.yaml').replace('name: bookinfo-lane', 'name: reviews').replace('[productpage, reviews, ratings]', '[productpage, ratings]');
    const dir = bookinfoWith({ 'second-train.yaml': second });

    const { trains, errors } = await loadDefinitions(dir);

    expect(errors.map((error) => `${error.file.slice(dir.length + 1)}: ${error.path}: ${error.message}`)).toEqual([
      'second-train.yaml: metadata.name: "reviews" is also the name of a ReleasePipeline; commands could not tell them apart',
      'second-train.yaml: spec.members[0]: "productpage" is also a member of train bookinfo-lane; a service rides in one train only',
      'second-train.yaml: spec.members[1]: "ratings" is also a member of train bookinfo-lane; a service rides in one train only',
    ]);
    expect(trains.map((train) => train.name)).toEqual(['bookinfo-lane']);
  });

  it('reports a train file with schema errors like any definition file', async () => {
    const dir = bookinfoWith({ 'bookinfo-lane.yaml': fixture('bookinfo-lane.yaml').replace('promote: ordered', 'promote: sometimes') });

    const { definitions, trains, errors } = await loadDefinitions(dir);

    expect(definitions).toHaveLength(3);
    expect(trains).toEqual([]);
    expect(errors.map(formatDefinitionError)).toEqual([`${dir}/bookinfo-lane.yaml:21:12: spec.promote: must be one of "ordered", "together" (got "sometimes")`]);
  });
});
