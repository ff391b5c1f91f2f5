#!/usr/bin/env node
// `npm run setup`: makes sure the programs the tests run for real are installed (Debian/Ubuntu).
// As root it installs what is missing with apt-get; otherwise it prints the one command to run.

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

// program on PATH → Debian package that provides it
const NEEDED = [
  ['redis-server', 'redis-server'],
  ['prometheus', 'prometheus'],
  ['prometheus-alertmanager', 'prometheus-alertmanager'],
  // the Kubernetes API test server makes a CA and certificates per run
  ['openssl', 'openssl'],
  // the dashboard's browser tests drive Debian's Chromium through playwright-core (never a downloaded browser)
  ['chromium', 'chromium'],
];

// Root's PATH may lack the sbin directories a non-login shell would have; packages install to /usr/bin.
const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];

function onPath(program) {
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const missing = NEEDED.filter(([program]) => !onPath(program)).map(([, pkg]) => pkg);
if (missing.length === 0) {
  console.log(`setup: ${NEEDED.map(([program]) => program).join(', ')} found`);
  process.exit(0);
}

const aptGet = process.env.APT_GET ?? 'apt-get';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0 && process.env.SETUP_AS_USER !== '1';
if (!isRoot) {
  console.error(`setup: missing ${missing.join(', ')}; install them with:`);
  console.error(`sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing.join(' ')}`);
  process.exit(1);
}

const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update'], ['install', '-y', ...missing]]) {
  console.log(`setup: ${aptGet} ${args.join(' ')}`);
  const result = spawnSync(aptGet, args, { stdio: 'inherit', env });
  if (result.error || result.status !== 0) {
    console.error(`setup: ${aptGet} ${args.join(' ')} failed${result.error ? `: ${result.error.message}` : ` with exit code ${result.status}`}`);
    process.exit(1);
  }
}
console.log(`setup: installed ${missing.join(', ')}`);
