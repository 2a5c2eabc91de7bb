/** `lumen keygen|sign|verify`: cosign-compatible keys and signatures, without a transparency log. */
import { createPublicKey } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatReference, parseReference, type Reference, type Registry } from '@lumen/oci';
import {
  generateKeys,
  imageDigest,
  loadPrivateKey,
  loadPublicKey,
  privateKeyFromPem,
  registryPool,
  SupplyError,
  SupplyErrorCode,
  signImage,
  verifyImage,
} from '@lumen/supply';
import { ExitCode } from '../../errors.ts';
import type { Command } from '../../types.ts';
import {
  caFileFlag,
  caFileUsage,
  credentialFlags,
  exitCodes,
  jsonFlag,
  parseFlags,
  printJson,
  usageError,
} from './flags.ts';
import { writeOutputFile } from './output-file.ts';
import { credentials, tuning } from './registry-access.ts';

/** The signing key from `--key FILE`, or from the environment variable `--key-env VAR` names (CI's secret). */
async function signingKey(file: string | undefined, variable: string | undefined) {
  if (file !== undefined) return loadPrivateKey(file, process.env.COSIGN_PASSWORD);
  const text = process.env[variable as string];
  if (!text) throw usageError('sign', `environment variable ${variable} (--key-env) is not set`);
  return privateKeyFromPem(text, `$${variable}`, process.env.COSIGN_PASSWORD);
}

/** Flags of `sign` and `verify`. */
const signingFlags = {
  ...caFileFlag,
  key: { type: 'string' },
  'plain-http': { type: 'boolean', default: false },
  ...credentialFlags,
  ...jsonFlag,
} as const;

export const keygen: Command = {
  summary: 'create an ECDSA P-256 key pair: cosign.key and cosign.pub',
  usage: `usage: lumen keygen --out DIR [--force] [--json]

Writes DIR/cosign.key (mode 0600) and DIR/cosign.pub (PEM SubjectPublicKeyInfo). When the
environment variable COSIGN_PASSWORD is set (even empty), cosign.key is encrypted in cosign's own
format (ENCRYPTED SIGSTORE PRIVATE KEY: scrypt + NaCl secretbox), readable by 'cosign sign --key';
otherwise it is an unencrypted PKCS#8 PEM. Existing files are never replaced without --force.
${exitCodes}`,
  async run(args) {
    const { values } = parseFlags(
      'keygen',
      args,
      { out: { type: 'string' }, force: { type: 'boolean', default: false }, ...jsonFlag },
      false,
    );
    if (!values.out) throw usageError('keygen', '--out DIR is required');
    await mkdir(values.out, { recursive: true }).catch((err: Error) => {
      throw new SupplyError(SupplyErrorCode.io, `cannot create ${values.out}: ${err.message}`);
    });
    const password = process.env.COSIGN_PASSWORD;
    const keys = generateKeys(password);
    const keyPath = join(values.out, 'cosign.key');
    const pubPath = join(values.out, 'cosign.pub');
    await writeOutputFile(keyPath, keys.privatePem, 0o600, values.force);
    await writeOutputFile(pubPath, keys.publicPem, 0o644, values.force);
    process.stderr.write(
      `wrote ${keyPath} (${password === undefined ? 'unencrypted PKCS#8' : 'encrypted'}) and ${pubPath}\n`,
    );
    if (values.json) printJson({ privateKey: keyPath, publicKey: pubPath, encrypted: password !== undefined });
    return ExitCode.ok;
  },
};

/** The registries of REF arguments, reached as `--plain-http` and `--username`/`--password-env` say. */
function registriesOf(
  command: string,
  refs: Reference[],
  values: { 'plain-http'?: boolean; username?: string; 'password-env'?: string },
) {
  const creds = credentials(command, values.username, values['password-env']);
  return registryPool({
    plainHttp: new Set(values['plain-http'] ? refs.map((r) => r.registry) : []),
    ...(creds ? { credentials: new Map(refs.map((r) => [r.registry, creds])) } : {}),
    ...tuning(),
  });
}

/** Parses REF arguments; each must name a registry host. */
function refsOf(command: string, positionals: string[]): Reference[] {
  if (positionals.length === 0) throw usageError(command, 'at least one image reference is required');
  return positionals.map((p) => parseReference(p));
}

export const sign: Command = {
  summary: 'sign images cosign-compatibly (sha256-<hex>.sig tag, no transparency log)',
  usage: `usage: lumen sign (--key KEY | --key-env VAR) [--plain-http] [--ca-file FILE]... [--username U --password-env VAR] [--json] REF...

Signs each image REF (host[:port]/repo[:tag][@digest]; a tag is resolved to its digest) with the
ECDSA P-256 key KEY: a PKCS#8 PEM, or cosign's encrypted cosign.key (password from COSIGN_PASSWORD);
with --key-env, the key's PEM text is in environment variable VAR (a CI secret; never written to disk).
The signature is stored as cosign does without Rekor: an OCI manifest tagged sha256-<hex>.sig in
the image's repository, one simple-signing layer per signature. Verifiable by 'cosign verify
--key cosign.pub --insecure-ignore-tlog' and 'lumen verify'.

  --plain-http        speak plain HTTP to the registries of REF (default HTTPS)
${caFileUsage}
  --username U        registry user; password from the variable named by --password-env
  --json              print the signed references on stdout
${exitCodes}`,
  async run(args) {
    const { values, positionals } = parseFlags('sign', args, { ...signingFlags, 'key-env': { type: 'string' } });
    if ((values.key === undefined) === (values['key-env'] === undefined))
      throw usageError('sign', 'exactly one of --key KEY and --key-env VAR is required');
    const refs = refsOf('sign', positionals);
    const key = await signingKey(values.key, values['key-env']);
    const publicKey = createPublicKey(key);
    const pool = registriesOf('sign', refs, values);
    const results = [];
    for (const ref of refs) {
      const registry = pool(ref.registry);
      const digest = ref.digest ?? (await resolveDigest(registry, ref));
      const r = await signImage(registry, ref.repository, digest, key, publicKey);
      process.stderr.write(
        `${formatReference({ ...ref, digest })}: ${r.added ? 'signed' : 'already signed by this key'} (${r.signatureTag})\n`,
      );
      results.push(r);
    }
    if (values.json) printJson({ signed: results });
    return ExitCode.ok;
  },
};

function resolveDigest(registry: Registry, ref: Reference) {
  return imageDigest(registry, ref.repository, ref.tag ?? 'latest');
}

export const verify: Command = {
  summary: "verify images' cosign signatures against a public key",
  usage: `usage: lumen verify --key PUB [--plain-http] [--ca-file FILE]... [--username U --password-env VAR] [--json] REF...

For each image REF, fetches sha256-<hex>.sig and accepts the image when at least one signature
layer verifies with PUB (PEM public key, cosign.pub) and its payload names the image's digest.
Exit 1 when any image has no valid signature (unsigned, wrong key, tampered payload), naming why.

  --plain-http        speak plain HTTP to the registries of REF (default HTTPS)
${caFileUsage}
  --username U        registry user; password from the variable named by --password-env
  --json              print per image {reference, verified, rejected} on stdout
${exitCodes}`,
  async run(args) {
    const { values, positionals } = parseFlags('verify', args, signingFlags);
    if (!values.key) throw usageError('verify', '--key PUB is required');
    const refs = refsOf('verify', positionals);
    const publicKey = await loadPublicKey(values.key);
    const pool = registriesOf('verify', refs, values);
    const results = [];
    const failures: string[] = [];
    for (const ref of refs) {
      const registry = pool(ref.registry);
      const digest = ref.digest ?? (await resolveDigest(registry, ref));
      const r = await verifyImage(registry, ref.repository, digest, publicKey);
      results.push(r);
      if (r.verified.length > 0) {
        process.stderr.write(
          `${r.reference}: verified (${r.verified.length} signature${r.verified.length > 1 ? 's' : ''})\n`,
        );
      } else {
        failures.push(`${r.reference}: ${r.rejected.join('; ')}`);
      }
    }
    if (values.json) printJson({ ok: failures.length === 0, results });
    if (failures.length > 0) {
      throw new SupplyError(SupplyErrorCode.signatureInvalid, `no valid signature: ${failures.join(' | ')}`, {
        issues: failures,
      });
    }
    return ExitCode.ok;
  },
};
