import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// No Docker daemon here: the image is checked against what `npm run build` needs and makes.
const stages = readFileSync('Dockerfile', 'utf8')
  .split(/^FROM /m)
  .slice(1)
  .map((stage) => ({
    name: /^\S+ AS (\S+)/.exec(stage)?.[1],
    copied: [...stage.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] ?? '').split(/\s+/)),
    copiedFromBuild: [...stage.matchAll(/^COPY --from=build (\S+)/gm)].map((m) => m[1] ?? ''),
    runs: [...stage.matchAll(/^RUN (.+)$/gm)].map((m) => m[1] ?? ''),
  }));
const build = stages.find((stage) => stage.name === 'build');
const runtime = stages.find((stage) => stage.name === 'runtime');
const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('Dockerfile', () => {
  it('builds with the package’s own build script, the dashboard included', () => {
    expect(scripts.build).toContain('web/build.mjs');
    expect(build?.runs.join(' && ')).toContain('npm run build');
  });

  it('copies every input of the build into the build stage', () => {
    for (const input of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'web']) {
      expect(build?.copied, input).toContain(input);
    }
  });

  it('ships what the build made (dist, with dist/web) and no pipeline definitions', () => {
    expect(runtime?.copiedFromBuild).toContain('/app/dist');
    expect(runtime?.copied).not.toContain('pipelines');
  });
});
