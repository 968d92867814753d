/** The HTTPS listener's certificate: configured files, or a self-signed one made on first start. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StartupError } from './data-dir.js';

const run = promisify(execFile);

/** Loads the configured certificate or creates a self-signed one under <dataDir>/tls. */
export async function loadOrCreateTls(dataDir: string, configured: { certFile: string; keyFile: string } | undefined): Promise<{ cert: Buffer; key: Buffer }> {
  if (configured) {
    try {
      return { cert: await readFile(configured.certFile), key: await readFile(configured.keyFile) };
    } catch (e) {
      throw new StartupError(`cannot read TLS certificate or key: ${(e as Error).message}`);
    }
  }
  const dir = join(dataDir, 'tls');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // node:crypto cannot issue X.509 certificates; openssl is part of every Debian base.
    try {
      await run('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyFile, '-out', certFile, '-days', '825', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,DNS:*.localhost,IP:127.0.0.1,IP:::1',
      ]);
    } catch (e) {
      throw new StartupError(`cannot create a self-signed certificate with openssl (configure tls.certFile/keyFile or set httpsPort to 0): ${(e as Error).message}`);
    }
  }
  return { cert: await readFile(certFile), key: await readFile(keyFile) };
}
