// What build is running: the package version (package.json, two levels above dist/ and src/ alike),
// the source revision the image was built from and the Node.js version. `canarybot --version` and
// `canarybot_build_info` read it.

import { readFileSync } from 'node:fs';

export interface BuildInfo {
  version: string;
  /** CANARYBOT_REVISION (the Dockerfile sets it from its REVISION build argument), else `unknown`. */
  revision: string;
  nodejsVersion: string;
}

let version: string | undefined;

export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

export function buildInfo(env: NodeJS.ProcessEnv = process.env): BuildInfo {
  const revision = env.CANARYBOT_REVISION?.trim();
  return { version: packageVersion(), revision: revision && /^[\w.-]{1,64}$/.test(revision) ? revision : 'unknown', nodejsVersion: process.version };
}
