/**
 * Throwaway TLS material for tests, made by openssl at run time (never committed): an ECDSA P-256
 * self-signed certificate valid for one day.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface SelfSignedCertificate {
  /** PEM private key file (unencrypted). */
  keyFile: string;
  /** PEM certificate file. */
  certFile: string;
}

/**
 * Writes `<name>-key.pem` and `<name>-cert.pem` into `dir`: subject `CN=<commonName>`, and with `ipSan`
 * a subjectAltName for that IP address (what a TLS client checks for `https://127.0.0.1`).
 */
export function selfSignedCertificate(
  dir: string,
  opts: { name: string; commonName: string; ipSan?: string },
): SelfSignedCertificate {
  const keyFile = join(dir, `${opts.name}-key.pem`);
  const certFile = join(dir, `${opts.name}-cert.pem`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${opts.commonName}`,
      ...(opts.ipSan ? ['-addext', `subjectAltName=IP:${opts.ipSan}`] : []),
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { keyFile, certFile };
}
