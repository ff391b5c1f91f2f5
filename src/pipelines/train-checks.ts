// Checks of a ReleaseTrain against the other files: every member is a ReleasePipeline here, the
// members release to the same clusters and namespace (one lane spans one mesh), and a member rides
// in one train only (else two trains could release it at once).

import { LineCounter, parseDocument } from 'yaml';
import type { Definition } from '../core/definition.js';
import type { TrainDefinition } from '../core/train/train-definition.js';
import { formatPath, type DefinitionError } from './definition-error.js';
import { offsetOf } from './parse-definition.js';

export interface TrainFile {
  file: string;
  text: string;
  train: TrainDefinition;
}

export function trainErrors(trains: readonly TrainFile[], definitions: readonly Definition[]): DefinitionError[] {
  const byName = new Map(definitions.map((definition) => [definition.name, definition]));
  const trainNames = new Map<string, string>();
  const riding = new Map<string, string>();
  const errors: DefinitionError[] = [];
  for (const { file, text, train } of trains) {
    const at = locator(text, file);
    const other = trainNames.get(train.name);
    if (other !== undefined) errors.push(at(['metadata', 'name'], `"${train.name}" is also the name of the train in ${other}`));
    else trainNames.set(train.name, file);
    if (byName.has(train.name)) errors.push(at(['metadata', 'name'], `"${train.name}" is also the name of a ReleasePipeline; commands could not tell them apart`));
    const first = byName.get(train.members[0] ?? '');
    train.members.forEach((member, index) => {
      const definition = byName.get(member);
      if (!definition) {
        errors.push(at(['spec', 'members', index], `no ReleasePipeline named "${member}" in this directory (found: ${[...byName.keys()].join(', ') || 'none'})`));
        return;
      }
      const rider = riding.get(member);
      if (rider !== undefined && rider !== train.name) {
        errors.push(at(['spec', 'members', index], `"${member}" is also a member of train ${rider}; a service rides in one train only`));
      }
      riding.set(member, train.name);
      if (!first || definition === first) return;
      if (definition.target.namespace !== first.target.namespace) {
        errors.push(at(['spec', 'members', index], `releases to namespace ${definition.target.namespace}, ${first.name} to ${first.target.namespace}: a lane spans one namespace`));
      }
      if (!sameSet(definition.target.clusters, first.target.clusters)) {
        errors.push(
          at(['spec', 'members', index], `releases to clusters ${definition.target.clusters.join(', ')}, ${first.name} to ${first.target.clusters.join(', ')}: members share one set of clusters`),
        );
      }
    });
  }
  return errors;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}

function locator(text: string, file: string): (path: Array<string | number>, message: string) => DefinitionError {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  return (path, message) => {
    const pos = lineCounter.linePos(offsetOf(doc, path, false));
    return { file, line: pos.line, column: pos.col, path: formatPath(path), message };
  };
}
