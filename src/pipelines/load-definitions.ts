// Reads PIPELINES_DIR/*.yaml|*.yml: every file's errors, then the checks across files (unique names,
// no two definitions releasing the same project+branch to the same route). All errors at once.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, isPair, isScalar, LineCounter, parseDocument } from 'yaml';
import type { Definition } from '../core/definition.js';
import type { DefinitionError } from './definition-error.js';
import { parseDefinition, type ParsedFile } from './parse-definition.js';
import type { TrainDefinition } from '../core/train/train-definition.js';
import { trainErrors, type TrainFile } from './train-checks.js';

export interface LoadedDefinitions {
  definitions: Definition[];
  /** `kind: ReleaseTrain` files whose members all check out. */
  trains: TrainDefinition[];
  errors: DefinitionError[];
}

const DEFINITION_FILE = /\.ya?ml$/i;

/** The file's text, or the error that says why it cannot be read. */
async function readText(file: string): Promise<string | ParsedFile> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return { definition: null, errors: [{ file, line: 1, column: 1, path: '', message: `cannot read the file (${code})` }] };
  }
}

export async function loadDefinitionFile(file: string): Promise<ParsedFile> {
  const text = await readText(file);
  return typeof text === 'string' ? parseDefinition(text, file) : text;
}

export async function loadDefinitions(dir: string): Promise<LoadedDefinitions> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      // ConfigMap volumes hold symlinks to a hidden `..data` directory: follow links, skip dot names.
      .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && !entry.name.startsWith('.') && DEFINITION_FILE.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return { definitions: [], trains: [], errors: [{ file: dir, line: 1, column: 1, path: '', message: `cannot read the directory (${code})` }] };
  }
  const errors: DefinitionError[] = [];
  const parsed: Array<{ file: string; text: string; definition: Definition }> = [];
  const trains: TrainFile[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const text = await readText(file);
    const result = typeof text === 'string' ? parseDefinition(text, file) : text;
    errors.push(...result.errors);
    if (result.definition && typeof text === 'string') parsed.push({ file, text, definition: result.definition });
    if (result.train && typeof text === 'string') trains.push({ file, text, train: result.train });
  }
  const conflicts = crossFileErrors(parsed);
  errors.push(...conflicts);
  const refused = new Set(conflicts.map((error) => error.file));
  const definitions = parsed.filter((entry) => !refused.has(entry.file)).map((entry) => entry.definition);
  const trainProblems = trainErrors(trains, definitions);
  errors.push(...trainProblems);
  const refusedTrains = new Set(trainProblems.map((error) => error.file));
  return { definitions, trains: trains.filter((entry) => !refusedTrains.has(entry.file)).map((entry) => entry.train), errors };
}

/** Two definitions sharing a name, or claiming the same project+branch and route: an error on both. */
function crossFileErrors(parsed: Array<{ file: string; text: string; definition: Definition }>): DefinitionError[] {
  const errors: DefinitionError[] = [];
  const byName = new Map<string, string>();
  const byClaim = new Map<string, string>();
  for (const { file, text, definition } of parsed) {
    const other = byName.get(definition.name);
    if (other !== undefined) {
      errors.push(at(text, file, ['metadata', 'name'], `"${definition.name}" is also the name in ${other}`));
      const otherText = parsed.find((entry) => entry.file === other)?.text ?? '';
      errors.push(at(otherText, other, ['metadata', 'name'], `"${definition.name}" is also the name in ${file}`));
    } else {
      byName.set(definition.name, file);
    }
    for (const claim of claims(definition)) {
      const claimant = byClaim.get(claim.key);
      if (claimant === undefined) {
        byClaim.set(claim.key, file);
        continue;
      }
      if (claimant === file) continue;
      const otherText = parsed.find((entry) => entry.file === claimant)?.text ?? '';
      errors.push(at(text, file, ['spec', 'target'], `${claim.label} is also released by ${claimant}`));
      errors.push(at(otherText, claimant, ['spec', 'target'], `${claim.label} is also released by ${file}`));
    }
  }
  return dedupe(errors);
}

function claims(definition: Definition): Array<{ key: string; label: string }> {
  const { trigger, target } = definition;
  const route = target.route ?? `first route to ${target.host}`;
  return target.clusters.map((cluster) => ({
    key: JSON.stringify([String(trigger.project), trigger.branch, cluster, target.namespace, target.virtualService, route]),
    label: `${trigger.project}@${trigger.branch} → ${cluster}/${target.namespace}/${target.virtualService} (${route})`,
  }));
}

function dedupe(errors: DefinitionError[]): DefinitionError[] {
  const seen = new Set<string>();
  return errors.filter((error) => {
    const key = JSON.stringify(error);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Locates a top-level field path (`metadata.name`, `spec.target`) in an already valid file. */
function at(text: string, file: string, path: string[], message: string): DefinitionError {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  let node: unknown = doc.contents;
  let offset = 0;
  for (const segment of path) {
    if (!isMap(node)) break;
    const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === segment);
    if (!pair || !isScalar(pair.key)) break;
    offset = pair.key.range?.[0] ?? offset;
    node = pair.value;
  }
  const pos = lineCounter.linePos(offset);
  return { file, line: pos.line, column: pos.col, path: path.join('.'), message };
}
