import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadServeConfig } from '../../src/config.js';

const script = resolve('scripts/compose-init.mjs');
const root = mkdtempSync(join(tmpdir(), 'canarybot-compose-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const KIND_KUBECONFIG = `# made by kind
apiVersion: v1
kind: Config
clusters:
  - name: kind-dev   # the local one
    cluster:
      server: https://127.0.0.1:39211
      certificate-authority-data: Zm9v
  - name: prod
    cluster:
      server: https://k8s.example.com:6443
contexts:
  - name: kind-dev
    context: { cluster: kind-dev, user: kind-dev }
current-context: kind-dev
users:
  - name: kind-dev
    user: { token: abc }
`;

function freshDir(): { cwd: string; kubeconfig: string } {
  const cwd = mkdtempSync(join(root, 'clone-'));
  const kubeconfig = join(cwd, 'kubeconfig');
  writeFileSync(kubeconfig, KIND_KUBECONFIG);
  return { cwd, kubeconfig };
}

function init(cwd: string, env: Record<string, string>, args: string[] = []) {
  return spawnSync(process.execPath, [script, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env },
    encoding: 'utf8',
  });
}

describe('npm run compose:init', () => {
  it('writes both webhook secrets, the token and a kubeconfig that reaches a loopback cluster from the container', () => {
    const { cwd, kubeconfig } = freshDir();

    const result = init(cwd, { GITLAB_TOKEN: 'glpat-compose-test', KUBECONFIG: kubeconfig });

    expect(result.status, result.stderr).toBe(0);
    const secrets = join(cwd, '.secrets');
    expect(statSync(secrets).mode & 0o777).toBe(0o700);
    for (const name of ['gitlab_webhook_secret', 'alert_webhook_secret']) {
      expect(readFileSync(join(secrets, name), 'utf8')).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(readFileSync(join(secrets, 'gitlab_webhook_secret'), 'utf8')).not.toBe(
      readFileSync(join(secrets, 'alert_webhook_secret'), 'utf8'),
    );
    expect(readFileSync(join(secrets, 'gitlab_token'), 'utf8')).toBe('glpat-compose-test');
    expect(result.stdout).not.toContain('glpat-compose-test');

    const written = readFileSync(join(secrets, 'kubeconfig'), 'utf8');
    expect(written).toContain('# made by kind');
    expect(written).toContain('# the local one');
    const config = new KubeConfig();
    config.loadFromString(written);
    expect(config.getCluster('kind-dev')).toMatchObject({
      server: 'https://host.docker.internal:39211',
      tlsServerName: '127.0.0.1',
      caData: 'Zm9v',
    });
    expect(config.getCluster('prod')).toMatchObject({ server: 'https://k8s.example.com:6443' });
    expect(config.getCluster('prod')?.tlsServerName).toBeUndefined();
  });

  it('keeps existing webhook secrets (GitLab and Alertmanager hold them) unless --force', () => {
    const { cwd, kubeconfig } = freshDir();
    const env = { GITLAB_TOKEN: 'glpat-compose-test', KUBECONFIG: kubeconfig };
    expect(init(cwd, env).status).toBe(0);
    const first = readFileSync(join(cwd, '.secrets', 'gitlab_webhook_secret'), 'utf8');

    expect(init(cwd, { KUBECONFIG: kubeconfig }).status).toBe(0);
    expect(readFileSync(join(cwd, '.secrets', 'gitlab_webhook_secret'), 'utf8')).toBe(first);
    expect(readFileSync(join(cwd, '.secrets', 'gitlab_token'), 'utf8')).toBe('glpat-compose-test');

    expect(init(cwd, env, ['--force']).status).toBe(0);
    expect(readFileSync(join(cwd, '.secrets', 'gitlab_webhook_secret'), 'utf8')).not.toBe(first);
  });

  it.each([
    ['no GitLab token', {}, /GITLAB_TOKEN is not set/],
    ['no kubeconfig', { GITLAB_TOKEN: 't', KUBECONFIG: '/nonexistent/kubeconfig' }, /no kubeconfig at \/nonexistent\/kubeconfig/],
  ])('refuses with one sentence and writes nothing: %s', (_name, env, message) => {
    const { cwd } = freshDir();

    const result = init(cwd, env);

    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(existsSync(join(cwd, '.secrets'))).toBe(false);
  });

  it('refuses a kubeconfig that is not YAML, and writes nothing', () => {
    const { cwd, kubeconfig } = freshDir();
    writeFileSync(kubeconfig, 'clusters: [ {');

    const result = init(cwd, { GITLAB_TOKEN: 't', KUBECONFIG: kubeconfig });

    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/the kubeconfig is not valid YAML/);
    expect(existsSync(join(cwd, '.secrets'))).toBe(false);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as {
    services: Record<string, { environment?: Record<string, string>; volumes?: string[]; secrets?: string[] }>;
    secrets: Record<string, { file: string }>;
  };
  const bot = compose.services.canarybot ?? {};

  it('reads only files that compose:init writes or the repository holds', () => {
    const { cwd, kubeconfig } = freshDir();
    expect(init(cwd, { GITLAB_TOKEN: 't', KUBECONFIG: kubeconfig }).status).toBe(0);
    const hostPaths = [
      ...Object.values(compose.secrets).map((secret) => secret.file),
      ...Object.values(compose.services).flatMap((service) => (service.volumes ?? []).map((v) => v.split(':')[0] ?? v)),
    ].filter((path) => path.startsWith('./'));

    for (const path of hostPaths) {
      const inClone = path.startsWith('./.secrets/') ? join(cwd, path) : path;
      expect(existsSync(inClone), `${path} is mounted but nothing provides it`).toBe(true);
    }
  });

  it("gives the bot a configuration it accepts, with the secrets compose:init made", () => {
    const { cwd, kubeconfig } = freshDir();
    expect(init(cwd, { GITLAB_TOKEN: 'glpat-compose-test', KUBECONFIG: kubeconfig }).status).toBe(0);
    const inContainer: Record<string, string> = {
      ...Object.fromEntries(Object.keys(compose.secrets).map((name) => [`/run/secrets/${name}`, join(cwd, '.secrets', name)])),
      '/etc/canarybot/kubeconfig': join(cwd, '.secrets', 'kubeconfig'),
    };
    const env = Object.fromEntries(
      Object.entries(bot.environment ?? {}).map(([name, value]) => {
        const withDefaults = String(value).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
        return [name, inContainer[withDefaults] ?? withDefaults];
      }),
    );

    const config = loadServeConfig(env);

    expect(config.gitlabToken).toBe('glpat-compose-test');
    expect(config.gitlabWebhookSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(config.kubeconfig).toBe(join(cwd, '.secrets', 'kubeconfig'));
  });

  it('maps host.docker.internal to the host, for the rewritten kubeconfig', () => {
    expect((bot as { extra_hosts?: string[] }).extra_hosts).toContain('host.docker.internal:host-gateway');
  });
});
