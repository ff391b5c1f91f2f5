import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  caPem: string;
  certPem: string;
  keyPem: string;
}

let made: TestCerts | null = null;

/** A throwaway CA and a server certificate for 127.0.0.1/localhost, made once per test process with the openssl CLI. */
export function testCerts(): TestCerts {
  made ??= makeCerts();
  return made;
}

function makeCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'canarybot-kube-'));
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', path('ca.key'), '-out', path('ca.crt'), '-days', '2', '-subj', '/CN=canarybot-test-ca');
  openssl('req', ...ec, '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(path('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'x509', '-req', '-in', path('server.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-CAcreateserial',
    '-out', path('server.crt'), '-days', '2', '-extfile', path('ext.cnf'),
  );
  const certs = {
    caPem: readFileSync(path('ca.crt'), 'utf8'),
    certPem: readFileSync(path('server.crt'), 'utf8'),
    keyPem: readFileSync(path('server.key'), 'utf8'),
  };
  rmSync(dir, { recursive: true, force: true });
  return certs;
}
