import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildInfo } from './build-info.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('buildInfo', () => {
  it.each([
    [{}, 'unknown'],
    [{ CANARYBOT_REVISION: '3ae3a83' }, '3ae3a83'],
    [{ CANARYBOT_REVISION: ' v1.2.3-rc.1 ' }, 'v1.2.3-rc.1'],
    [{ CANARYBOT_REVISION: 'a"}\nevil' }, 'unknown'],
    [{ CANARYBOT_REVISION: 'x'.repeat(65) }, 'unknown'],
  ])('%j → revision %s, with the package version and Node.js version', (env, revision) => {
    expect(buildInfo(env)).toEqual({ version, revision, nodejsVersion: process.version });
  });
});
