// `canarybot plan <name|file>`: the dry run of a definition, step by step, optionally with the exact
// VirtualService each step would write.

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { Definition } from '../core/definition.js';
import { CanarybotError } from '../core/errors.js';
import type { VirtualServiceObject } from '../mesh/virtual-service.js';
import { formatDefinitionError, type DefinitionError } from '../pipelines/definition-error.js';
import { loadDefinitionFile, loadDefinitions } from '../pipelines/load-definitions.js';
import { renderTrainPlan } from '../pipelines/render-train-plan.js';
import { parseDefinition } from '../pipelines/parse-definition.js';
import { DIFF_FORMATS, renderPlan, renderVirtualServiceChanges, type DiffFormat } from '../pipelines/render-plan.js';
import { ClusterRegistry } from '../mesh/cluster-registry.js';
import { IstioObjects } from '../mesh/istio-objects.js';
import { pipelinesDir, processIo, readStdin, type CliIo } from './io.js';
import { checkMesh } from './plan-check.js';
import type { CliCommand } from './main.js';

const HELP = `usage: canarybot plan <name|file|-> [--dir <dir>] [--image <ref>] [--virtual-service <file>] [--diff [--diff-format unified|json-patch]] [--check]

Prints what a release of this definition would do, without touching anything: each step with the
canary's weight, the mirror / A-B / preview routing, the gates it waits for and its minimum
duration, and the total minimum release time.

  name|file|-               metadata.name of a definition in the directory, a definition file, or -
                            to read the definition from stdin
  --dir <dir>               directory of definitions (default: $PIPELINES_DIR, else ./pipelines)
  --image <ref>             the image being released (default: trigger.image with a tag placeholder)
  --virtual-service <file>  the VirtualService as it is now (YAML); prints, for every step, the exact
                            VirtualService canarybot would write: only the managed route changes
  --diff                    instead of the whole VirtualService per step, print what each step
                            changes: the first step against the --virtual-service file, else against
                            the live VirtualService of each cluster of $KUBECONFIG (read-only), and
                            every later step against the step before
  --diff-format <format>    unified (default: a unified diff of the YAML) or json-patch (the RFC 6902
                            operations canarybot sends, one per line)
  --check                   also run the release's mesh pre-flight against the cluster(s) of
                            $KUBECONFIG, read-only (Service port protocol, sidecar injection, subset
                            selectors, gateway binding); exit 1 when a release would be refused
`;

class PlanInputError extends Error {}

async function findDefinition(target: string, dir: string, io: CliIo): Promise<{ definition?: Definition; train?: string; errors: DefinitionError[] }> {
  if (target === '-') {
    const text = await readStdin(io);
    if (text.trim() === '') throw new PlanInputError('stdin is empty: pipe a definition into `canarybot plan -`');
    const { definition, train, errors } = parseDefinition(text, '<stdin>');
    if (train) return { train: renderTrainPlan(train, (await loadDefinitions(dir)).definitions), errors };
    return definition ? { definition, errors } : { errors };
  }
  if (/\.ya?ml$/i.test(target) || target.includes('/')) {
    const { definition, train, errors } = await loadDefinitionFile(target);
    // A train's members are the pipelines of the directory.
    if (train) return { train: renderTrainPlan(train, (await loadDefinitions(dir)).definitions), errors };
    return definition ? { definition, errors } : { errors };
  }
  const { definitions, trains, errors } = await loadDefinitions(dir);
  const definition = definitions.find((candidate) => candidate.name === target);
  if (definition) return { definition, errors: [] };
  const train = trains.find((candidate) => candidate.name === target);
  if (train) return { train: renderTrainPlan(train, definitions), errors: [] };
  if (errors.length > 0) return { errors };
  const names = [...definitions, ...trains].map((candidate) => candidate.name).join(', ') || 'none';
  throw new PlanInputError(`no definition named "${target}" in ${dir} (found: ${names})`);
}

async function readVirtualService(file: string): Promise<VirtualServiceObject> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new PlanInputError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new PlanInputError(`${file} is empty`);
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new PlanInputError(`${file} is not valid YAML: ${doc.errors[0]?.message.split('\n')[0]}`);
    const object = doc.toJS() as Partial<VirtualServiceObject> | null;
    if (object?.kind !== 'VirtualService') continue;
    if (typeof object.metadata?.name !== 'string' || typeof object.spec !== 'object' || object.spec === null) {
      throw new PlanInputError(`${file}: the VirtualService needs metadata.name and spec`);
    }
    return object as VirtualServiceObject;
  }
  throw new PlanInputError(`${file} holds no object of kind VirtualService`);
}

/** The VirtualService of the definition as it is now on each of its clusters (read-only). */
async function liveVirtualServices(definition: Definition, io: CliIo): Promise<Array<{ source: string; vs: VirtualServiceObject }>> {
  if (!io.env.KUBECONFIG && !io.env.KUBERNETES_SERVICE_HOST) {
    throw new PlanInputError('--diff compares with the live VirtualService, and KUBECONFIG is not set: set it, or give the VirtualService with --virtual-service <file>');
  }
  const registry = ClusterRegistry.fromEnvironment(io.env as NodeJS.ProcessEnv);
  const { namespace, virtualService } = definition.target;
  return Promise.all(
    definition.target.clusters.map(async (cluster) => {
      try {
        const vs = await new IstioObjects(registry.client(cluster)).getVirtualService(namespace, virtualService);
        return { source: `the live VirtualService on cluster ${cluster}`, vs };
      } catch (error) {
        if (error instanceof CanarybotError) throw new PlanInputError(`--diff needs the VirtualService as it is now: ${error.message} (or give one with --virtual-service <file>)`);
        throw error;
      }
    }),
  );
}

export async function runPlan(args: string[], io: CliIo = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        dir: { type: 'string' },
        image: { type: 'string' },
        'virtual-service': { type: 'string' },
        check: { type: 'boolean' },
        diff: { type: 'boolean' },
        'diff-format': { type: 'string' },
      },
    });
  } catch (error) {
    io.stderr.write(`canarybot plan: ${(error as Error).message}\n\n${HELP}`);
    return 1;
  }
  if (parsed.values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const [target, ...extra] = parsed.positionals;
  if (!target || extra.length > 0) {
    io.stderr.write(`canarybot plan: expected one definition name or file\n\n${HELP}`);
    return 1;
  }
  const diffFormat = (parsed.values['diff-format'] ?? 'unified') as DiffFormat;
  if (!DIFF_FORMATS.includes(diffFormat) || (parsed.values['diff-format'] !== undefined && !parsed.values.diff)) {
    io.stderr.write(`canarybot plan: --diff-format takes ${DIFF_FORMATS.join(' or ')}, with --diff\n\n${HELP}`);
    return 1;
  }
  try {
    const { definition, train, errors } = await findDefinition(target, pipelinesDir(io, parsed.values.dir), io);
    if (train !== undefined) {
      io.stdout.write(train);
      return 0;
    }
    if (!definition) {
      for (const error of errors) io.stdout.write(`${formatDefinitionError(error)}\n`);
      return 1;
    }
    const vsFile = parsed.values['virtual-service'];
    const virtualService = vsFile ? await readVirtualService(vsFile) : undefined;
    if (parsed.values.diff) {
      // Read everything first: a cluster that cannot be read prints nothing but the reason.
      const starts = virtualService ? [{ source: `the VirtualService in ${vsFile}`, vs: virtualService }] : await liveVirtualServices(definition, io);
      io.stdout.write(renderPlan(definition, { image: parsed.values.image }));
      for (const start of starts) io.stdout.write(`\n${renderVirtualServiceChanges(definition, start.vs, diffFormat, start.source)}`);
    } else io.stdout.write(renderPlan(definition, { image: parsed.values.image, virtualService }));
    if (parsed.values.check) return (await checkMesh(definition, io)) ? 0 : 1;
    return 0;
  } catch (error) {
    if (error instanceof PlanInputError || error instanceof CanarybotError) {
      io.stderr.write(`canarybot plan: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

export const planCommand: CliCommand = {
  summary: 'dry run: every step of a definition and the VirtualService it would write',
  run: (args) => runPlan(args),
};
