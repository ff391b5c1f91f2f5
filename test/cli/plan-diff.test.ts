// `canarybot plan --diff` and `canarybot plan -`: what each step changes, checked by applying it —
// the unified diffs with GNU patch, the JSON patches with the Kubernetes API test server's RFC 6902
// implementation — and comparing with the whole objects `--virtual-service` prints.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import type { CliIo } from '../../src/cli/io.js';
import { runPlan } from '../../src/cli/plan.js';
import { applyJsonPatch } from '../../src/sim/kube/patches.js';

const VS_FILE = 'test/fixtures/plan/reviews-virtual-service.yaml';
const work = mkdtempSync(join(tmpdir(), 'canarybot-plan-diff-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

async function plan(args: string[], stdin?: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env,
    ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }),
  };
  const code = await runPlan(args, io);
  return { code, stdout, stderr };
}

/** The whole object after each step and after promotion, as `--virtual-service` prints them. */
async function wholeObjects(name: string, vsFile: string): Promise<unknown[]> {
  const { stdout } = await plan([name, '--dir', 'pipelines', '--virtual-service', vsFile]);
  const docs = parseAllDocuments(stdout.slice(stdout.indexOf('\n---\n') + 1));
  return (Array.isArray(docs) ? docs : []).map((doc) => doc.toJS() as unknown);
}

/** `# step n: …` / `# promoted: …` blocks of the --diff output, with their bodies. */
function blocks(stdout: string): Array<{ title: string; body: string }> {
  const section = stdout.slice(stdout.indexOf('what each step changes'));
  return [...section.matchAll(/^# (.+)\n((?:(?!# ).*\n)*)/gm)].map((m) => ({ title: m[1]!, body: m[2]!.trim() }));
}

function patchFile(before: string, diff: string): string {
  const file = join(work, 'vs.yaml');
  writeFileSync(file, before);
  const result = spawnSync('patch', ['--silent', '--forward', file], { input: diff, encoding: 'utf8' });
  expect(result.status, result.stdout + result.stderr).toBe(0);
  return readFileSync(file, 'utf8');
}

const withoutVersion = (vs: unknown): unknown => {
  const object = structuredClone(vs) as { metadata: Record<string, unknown> };
  delete object.metadata.resourceVersion;
  return object;
};

describe('canarybot plan --diff', () => {
  it.each([
    ['reviews', VS_FILE],
    ['details', 'test/fixtures/plan/details-virtual-service.yaml'],
  ])('%s: each unified diff, applied by GNU patch to the object before it, gives the object --virtual-service prints', async (name, vsFile) => {
    const whole = await wholeObjects(name, vsFile);

    const { code, stdout, stderr } = await plan([name, '--dir', 'pipelines', '--virtual-service', vsFile, '--diff']);

    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).not.toContain('apiVersion: networking.istio.io');
    const found = blocks(stdout);
    expect(found).toHaveLength(whole.length);
    let text = stringify(withoutVersion((parseAllDocuments(readFileSync(vsFile, 'utf8')) as unknown as Array<{ toJS(): unknown }>)[0]!.toJS()));
    found.forEach((block, index) => {
      if (block.title.endsWith(': unchanged, nothing written')) expect(block.body).toBe('');
      else text = patchFile(text, `${block.body}\n`);
      expect(parseAllDocuments(text)).toHaveLength(1);
      expect((parseAllDocuments(text) as unknown as Array<{ toJS(): unknown }>)[0]!.toJS(), block.title).toEqual(withoutVersion(whole[index]));
    });
  });

  it('prints the JSON patch operations canarybot sends, one per line, which applied in turn give every step', async () => {
    const whole = await wholeObjects('reviews', VS_FILE);

    const { code, stdout } = await plan(['reviews', '--dir', 'pipelines', '--virtual-service', VS_FILE, '--diff', '--diff-format', 'json-patch']);

    expect(code).toBe(0);
    const found = blocks(stdout);
    expect(found.map((block) => block.title)).toEqual([
      'step 1: set weight 5%',
      'step 2: pause 2m: unchanged, nothing written',
      'step 3: analysis: unchanged, nothing written',
      'step 4: set weight 25%',
      'step 5: approval: unchanged, nothing written',
      'step 6: set weight 50%',
      'step 7: analysis for 5m: unchanged, nothing written',
      'step 8: set weight 100%',
      'promoted: all traffic on reviews-primary (now running the new image)',
    ]);
    expect(found[3]!.body).toBe(
      '[\n  {"op":"replace","path":"/spec/http/1/route/0/weight","value":75},\n  {"op":"replace","path":"/spec/http/1/route/1/weight","value":25}\n]',
    );
    let object = (parseAllDocuments(readFileSync(VS_FILE, 'utf8')) as unknown as Array<{ toJS(): unknown }>)[0]!.toJS();
    found.forEach((block, index) => {
      if (block.body !== '') object = applyJsonPatch(object as never, JSON.parse(block.body) as never);
      expect(object, block.title).toEqual(whole[index]);
    });
  });

  it.each<[string[], RegExp]>([
    [['--diff', '--diff-format', 'json'], /--diff-format takes unified or json-patch, with --diff/],
    [['--diff-format', 'unified'], /--diff-format takes unified or json-patch, with --diff/],
    [['--diff'], /--diff compares with the live VirtualService, and KUBECONFIG is not set: set it, or give the VirtualService with --virtual-service <file>/],
  ])('refuses %j with a sentence and prints nothing', async (extra, message) => {
    const { code, stdout, stderr } = await plan(['reviews', '--dir', 'pipelines', ...extra]);

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
  });
});

describe('canarybot plan -', () => {
  it('reads the definition from stdin and plans it as it would the file', async () => {
    const fromFile = await plan(['pipelines/reviews.yaml', '--image', 'r:1']);

    const fromStdin = await plan(['-', '--image', 'r:1'], readFileSync('pipelines/reviews.yaml', 'utf8'));

    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stdout).toBe(fromFile.stdout.replace(' (pipelines/reviews.yaml)', ' (<stdin>)'));
    expect(fromStdin.stdout).toMatch(/^reviews: canary, 8 steps \(<stdin>\)\n/);
  });

  it('takes --diff with a definition from stdin', async () => {
    const { code, stdout } = await plan(['-', '--virtual-service', VS_FILE, '--diff'], readFileSync('pipelines/reviews.yaml', 'utf8'));

    expect(code).toBe(0);
    expect(stdout).toContain('# step 4: set weight 25%\n--- VirtualService bookinfo/reviews (step 3)\n+++ VirtualService bookinfo/reviews (step 4)\n');
  });

  it.each([
    ['an empty stdin', '', 'stderr', /^canarybot plan: stdin is empty: pipe a definition into `canarybot plan -`\n$/],
    ['a bad definition', readFileSync('test/fixtures/pipelines/three-mistakes.yaml', 'utf8'), 'stdout', /^<stdin>:\d+:\d+: /],
  ])('exits 1 for %s, saying why', async (_, input, stream, message) => {
    const result = await plan(['-'], input);

    expect(result.code).toBe(1);
    expect(result[stream as 'stdout' | 'stderr']).toMatch(message);
  });
});
