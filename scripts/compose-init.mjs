#!/usr/bin/env node
// `npm run compose:init`: writes what `docker compose up` needs into ./.secrets, in one command.
//   - gitlab_webhook_secret, alert_webhook_secret: 32 random bytes, hex (kept if they already exist:
//     GitLab's hook and Alertmanager are configured with them, so rotating is a deliberate act)
//   - gitlab_token: from $GITLAB_TOKEN (kept if it exists and $GITLAB_TOKEN is unset)
//   - kubeconfig: $KUBECONFIG (first file) or ~/.kube/config, with every loopback API server
//     (kind, minikube, k3d, Docker Desktop) pointed at host.docker.internal, which compose maps to
//     the host; `tls-server-name` keeps the certificate check on the name the server's certificate has.
// Everything is checked before anything is written: on an error nothing changes.
// --force writes new webhook secrets even when they exist.

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDocument } from 'yaml';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0']);
const CONTAINER_HOST = 'host.docker.internal';

/** Rewrites loopback cluster servers of a kubeconfig; returns the new text and the clusters changed. */
export function kubeconfigForContainer(text) {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`the kubeconfig is not valid YAML: ${doc.errors[0].message}`);
  const clusters = doc.get('clusters');
  if (!clusters || !Array.isArray(clusters.items) || clusters.items.length === 0) {
    throw new Error('the kubeconfig has no clusters');
  }
  const changed = [];
  for (const entry of clusters.items) {
    const cluster = entry.get('cluster');
    const server = cluster?.get('server');
    if (typeof server !== 'string') continue;
    let url;
    try {
      url = new URL(server);
    } catch {
      throw new Error(`cluster ${entry.get('name')}: server ${JSON.stringify(server)} is not a URL`);
    }
    if (!LOOPBACK_HOSTS.has(url.hostname)) continue;
    const originalHost = url.hostname === '0.0.0.0' ? 'localhost' : url.hostname.replace(/^\[|\]$/g, '');
    url.hostname = CONTAINER_HOST;
    cluster.set('server', url.toString().replace(/\/$/, ''));
    // The API server's certificate names the loopback address; keep verifying against that name.
    if (!cluster.has('tls-server-name') && !cluster.get('insecure-skip-tls-verify')) {
      cluster.set('tls-server-name', originalHost);
    }
    changed.push(String(entry.get('name')));
  }
  return { text: doc.toString(), changed };
}

function kubeconfigSource(env) {
  const first = (env.KUBECONFIG ?? '').split(delimiter).find(Boolean);
  return first ? resolve(first) : join(homedir(), '.kube', 'config');
}

/** Plans every file to write; throws with one sentence when something is missing. */
export function planSecrets({ dir, env, force, random = () => randomBytes(32).toString('hex') }) {
  const files = [];
  const notes = [];
  for (const name of ['gitlab_webhook_secret', 'alert_webhook_secret']) {
    if (existsSync(join(dir, name)) && !force) {
      notes.push(`${name}: kept (--force makes a new one)`);
      continue;
    }
    files.push({ name, content: random(), mode: 0o644 });
    notes.push(`${name}: generated`);
  }
  const token = env.GITLAB_TOKEN?.trim();
  if (token) {
    files.push({ name: 'gitlab_token', content: token, mode: 0o644 });
    notes.push('gitlab_token: from $GITLAB_TOKEN');
  } else if (existsSync(join(dir, 'gitlab_token'))) {
    notes.push('gitlab_token: kept');
  } else {
    throw new Error(
      'GITLAB_TOKEN is not set: run `GITLAB_TOKEN=<a GitLab access token with the api scope> npm run compose:init`',
    );
  }
  const source = kubeconfigSource(env);
  if (!existsSync(source)) {
    throw new Error(`no kubeconfig at ${source}: set KUBECONFIG to the file of the cluster canarybot should release to`);
  }
  const { text, changed } = kubeconfigForContainer(readFileSync(source, 'utf8'));
  files.push({ name: 'kubeconfig', content: text, mode: 0o644 });
  notes.push(
    changed.length > 0
      ? `kubeconfig: from ${source}, ${changed.join(', ')} reached through ${CONTAINER_HOST}`
      : `kubeconfig: from ${source}`,
  );
  return { files, notes };
}

function main() {
  const dir = resolve(process.cwd(), '.secrets');
  const force = process.argv.includes('--force');
  let plan;
  try {
    plan = planSecrets({ dir, env: process.env, force });
  } catch (error) {
    console.error(`compose:init: ${error.message}`);
    process.exit(1);
  }
  // The directory is private to you; the files are readable by the containers' own users
  // (canarybot runs as 10001, Alertmanager as nobody) through their bind mounts.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  for (const file of plan.files) {
    writeFileSync(join(dir, file.name), file.content, { mode: file.mode });
    chmodSync(join(dir, file.name), file.mode);
  }
  for (const note of plan.notes) console.log(`compose:init: ${note}`);
  console.log('compose:init: done — `docker compose up --build`');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
