import { beforeAll, describe, expect, it } from 'vitest';
import type { Definition } from '../core/definition.js';
import type { TrainDefinition } from '../core/train/train-definition.js';
import { loadDefinitions } from './load-definitions.js';
import { renderTrainPlan } from './render-train-plan.js';

let definitions: Definition[];
let train: TrainDefinition;

beforeAll(async () => {
  const loaded = await loadDefinitions('test/fixtures/trains');
  definitions = loaded.definitions;
  train = loaded.trains[0] as TrainDefinition;
});

describe('renderTrainPlan with spec.gitops members', () => {
  it('says Git comes first, one write per config repository, and that a rollback reverts what landed', () => {
    const withGitOps = definitions.map((definition): Definition => {
      if (definition.name === 'productpage') return definition;
      const repository = definition.name === 'ratings' ? 'platform/ratings-config' : 'platform/config';
      return { ...definition, gitops: { repository, branch: 'main', files: [{ path: `apps/${definition.name}/values.yaml`, pin: { kind: 'helmValues', path: ['image', 'tag'] } }], via: definition.name === 'ratings' ? 'merge-request' : 'commit', onDrift: 'refuse', mergeTimeoutMs: 600_000 } };
    });

    const lines = renderTrainPlan(train, withGitOps).split('\n');

    expect(lines.filter((line) => /Git|gitops|revert/.test(line))).toEqual([
      '  6. Git first, every pin re-read (one changed since pre-flight refuses the train, nothing written): one commit in platform/config@main for reviews; one merge request in platform/ratings-config@main for ratings',
      '  7. promote one member at a time, leaf first: ratings, reviews, productpage (a member with spec.gitops.sync: its controller applying the commit); close the entry, then remove the lane routes last',
      "  close the entry (productpage's cohort back to stable) → remove the lane routes → revert each Git commit that landed (one per repository, never over a human's later value) → scale every canary down",
    ]);
  });

  it('says nothing of Git without spec.gitops members', () => {
    expect(renderTrainPlan(train, definitions)).not.toMatch(/Git|gitops|revert/);
  });
});
