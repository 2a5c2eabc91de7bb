import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command, CommandTable } from '@lumen/cli';
import type { Inventory } from '@lumen/inventory';
import type { Credentials, Reference, Registry } from '@lumen/oci';
import { SupplyError, SupplyErrorCode } from './errors.ts';
import { intFlag, parseFlags, usageError } from './flags.ts';
import { formatBytes, Progress } from './progress.ts';
import type { RegistryAccess } from './registries.ts';

// Every command loads what it needs when it runs: `lumen mirror-config` never loads the
// registry client, `lumen bundle push --registry …` never loads the inventory schema. This
// halves the start of a command (≈ 0.4 s → 0.2 s on the CI machine), which every CI step pays.

const exitCodes = `Exit codes: 0 ok, 1 a proof failed (digest, signature, lock mismatch), 2 bad usage or input,
3 registry or download failure, 4 local I/O failure.`;

const inventoryFlag = { inventory: { type: 'string' } } as const;
const jsonFlag = { json: { type: 'boolean', default: false } } as const;
const plainHttpRegistryFlag = { 'plain-http-registry': { type: 'string', multiple: true } } as const;
const credentialFlags = { username: { type: 'string' }, 'password-env': { type: 'string' } } as const;

async function inventory(dir: string | undefined, requireLock: boolean): Promise<Inventory> {
  const { DEFAULT_INVENTORY_DIR, loadInventory } = await import('@lumen/inventory');
  return loadInventory(dir ?? DEFAULT_INVENTORY_DIR, { requireLock });
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `--username U --password-env VAR` → credentials (the password never appears on the command line). */
function credentials(
  command: string,
  username: string | undefined,
  passwordEnv: string | undefined,
): Credentials | undefined {
  if (username === undefined && passwordEnv === undefined) return undefined;
  if (username === undefined || passwordEnv === undefined) {
    throw usageError(command, '--username and --password-env go together');
  }
  const password = process.env[passwordEnv];
  if (password === undefined)
    throw usageError(command, `environment variable ${passwordEnv} (--password-env) is not set`);
  return { username, password };
}

/** Test and tuning knobs from the environment (documented in docs/supply-chain.md). */
function tuning(): Pick<RegistryAccess, 'retries' | 'retryBaseMs' | 'chunkSize'> {
  const n = (name: string) => {
    const v = process.env[name];
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const out: Pick<RegistryAccess, 'retries' | 'retryBaseMs' | 'chunkSize'> = {};
  const retries = n('LUMEN_REGISTRY_RETRIES');
  const base = n('LUMEN_REGISTRY_RETRY_BASE_MS');
  const chunk = n('LUMEN_UPLOAD_CHUNK_BYTES');
  if (retries !== undefined) out.retries = retries;
  if (base !== undefined) out.retryBaseMs = base;
  if (chunk !== undefined && chunk > 0) out.chunkSize = chunk;
  return out;
}

const inventoryLock: Command = {
  summary: 'resolve every image tag, chart and file of the inventory to a digest (writes lock.yaml)',
  usage: `usage: lumen inventory lock [--inventory DIR] [--plain-http-registry HOST]... [--concurrency N] [--json]

Resolves every upstream image tag (its index filtered to the inventory's platforms), chart
archive and file to a SHA-256 digest and writes DIR/lock.yaml atomically. Needs the network.

  --inventory DIR             inventory directory (default: the repository's inventory/)
  --plain-http-registry HOST  speak plain HTTP to this registry host:port (repeatable; default HTTPS)
  --concurrency N             parallel requests (default 4)
  --json                      print the resolved digests as JSON on stdout
${exitCodes}`,
  async run(args) {
    const { values } = parseFlags(
      'inventory lock',
      args,
      {
        ...inventoryFlag,
        ...jsonFlag,
        ...plainHttpRegistryFlag,
        concurrency: { type: 'string' },
      },
      false,
    );
    const inv = await inventory(values.inventory, false);
    const progress = new Progress();
    const { lockInventory } = await import('./lock.ts');
    const changes = await lockInventory(inv, {
      access: { plainHttp: new Set(values['plain-http-registry'] ?? []), ...tuning() },
      progress,
      concurrency: intFlag('inventory lock', 'concurrency', values.concurrency, 4),
    });
    const changed = changes.filter((c) => c.previous !== undefined).length;
    progress.finish(`locked ${changes.length} entries (${changed} changed) in ${join(inv.dir, 'lock.yaml')}`);
    if (values.json) printJson({ lock: join(inv.dir, 'lock.yaml'), entries: changes });
    return 0;
  },
};

const bundleCreate: Command = {
  summary: 'pull every pinned image, chart and file of the inventory into a bundle (OCI image layout)',
  usage: `usage: lumen bundle create --out DIR [--inventory DIR] [--platform OS/ARCH]... [--concurrency N]
                           [--plain-http-registry HOST]... [--json]

Pulls every upstream image (the inventory's platforms), chart (classic repository or OCI, stored
as a Helm OCI artifact) and file into DIR, an OCI image layout with lumen-bundle.json listing every
digest. The inventory must be fully locked; upstream content must match the lock. Resumable:
re-running skips blobs already in DIR after re-hashing them. Cosign signatures found upstream
(sha256-<hex>.sig) are carried along. Credentials come from REGISTRY_AUTH_FILE, DOCKER_CONFIG or
~/.docker/config.json.

  --out DIR                   bundle directory (created, or resumed when it exists)
  --inventory DIR             inventory directory (default: the repository's inventory/)
  --platform OS/ARCH          carry these platforms instead of the inventory's (repeatable; skips the lock check)
  --concurrency N             parallel blob transfers (default 8)
  --plain-http-registry HOST  speak plain HTTP to this registry host:port (repeatable; default HTTPS)
  --json                      print a summary as JSON on stdout
${exitCodes}`,
  async run(args) {
    const { values } = parseFlags(
      'bundle create',
      args,
      {
        out: { type: 'string' },
        ...inventoryFlag,
        ...jsonFlag,
        ...plainHttpRegistryFlag,
        platform: { type: 'string', multiple: true },
        concurrency: { type: 'string' },
      },
      false,
    );
    if (!values.out) throw usageError('bundle create', '--out DIR is required');
    const concurrency = intFlag('bundle create', 'concurrency', values.concurrency, 8);
    const inv = await inventory(values.inventory, true);
    const progress = new Progress();
    const platforms = values.platform?.flatMap((p) => p.split(',')).filter(Boolean);
    const { createBundle } = await import('./bundle-create.ts');
    const result = await createBundle(inv, {
      out: resolve(values.out),
      ...(platforms?.length ? { platforms } : {}),
      concurrency,
      access: { plainHttp: new Set(values['plain-http-registry'] ?? []), ...tuning() },
      progress,
    });
    progress.finish(
      `bundle ${values.out}: ${result.images} images, ${result.charts} charts, ${result.files} files, ${result.blobs} blobs (${formatBytes(result.bytesTotal)}); fetched ${result.fetched} (${formatBytes(result.bytesFetched)}), reused ${result.reused}${result.pruned ? `, pruned ${result.pruned} unreferenced` : ''}`,
    );
    if (values.json) printJson({ bundle: resolve(values.out), ...result });
    return 0;
  },
};

const bundleVerify: Command = {
  summary: "prove every blob's digest and the bundle's completeness against the inventory",
  usage: `usage: lumen bundle verify DIR [--inventory DIR | --no-inventory] [--concurrency N] [--json]

Re-hashes every blob listed in DIR/lumen-bundle.json, checks that every manifest's references
are in the bundle, and that every image, chart and file of the inventory is there with the
digest lock.yaml pins. Works offline. Prints one line per problem on stderr.

  --inventory DIR   inventory to check completeness against (default: the repository's inventory/)
  --no-inventory    check digests and internal completeness only
  --concurrency N   parallel hashing (default 4)
  --json            print {ok, blobs, bytes, problems} on stdout
${exitCodes}`,
  async run(args) {
    const { values, positionals } = parseFlags('bundle verify', args, {
      ...inventoryFlag,
      ...jsonFlag,
      'no-inventory': { type: 'boolean', default: false },
      concurrency: { type: 'string' },
    });
    const [dir, extra] = positionals;
    if (!dir || extra !== undefined) throw usageError('bundle verify', 'exactly one bundle directory is required');
    const inv = values['no-inventory'] ? undefined : await inventory(values.inventory, false);
    const { verifyBundle } = await import('./bundle-verify.ts');
    const result = await verifyBundle(dir, inv, intFlag('bundle verify', 'concurrency', values.concurrency, 4));
    if (values.json) printJson({ ok: result.problems.length === 0, ...result });
    if (result.problems.length > 0) {
      for (const p of result.problems) process.stderr.write(`${p}\n`);
      throw new SupplyError(
        SupplyErrorCode.bundleCorrupt,
        `bundle ${dir} failed verification: ${result.problems[0]}${result.problems.length > 1 ? ` (and ${result.problems.length - 1} more)` : ''}`,
        { issues: result.problems },
      );
    }
    process.stderr.write(`bundle ${dir}: ${result.blobs} blobs (${formatBytes(result.bytes)}) verified\n`);
    return 0;
  },
};

const bundlePush: Command = {
  summary: 'push a bundle (images, signatures, charts as Helm OCI artifacts) into a registry',
  usage: `usage: lumen bundle push DIR [--registry HOST:PORT] [--plain-http] [--username U --password-env VAR]
                         [--concurrency N] [--inventory DIR] [--json]

Pushes every image (with its cosign signature tags) to <registry>/<airgap path> and every chart
to <registry>/<charts path>/<chart>:<version>. Skips blobs the registry already has, mounts blobs
already pushed to another repository, uploads the rest in chunks and resumes an interrupted upload.

  --registry HOST:PORT  target registry (default: site.registry of the inventory)
  --plain-http          speak plain HTTP (default: HTTPS; with no --registry, site.plainHttp)
  --username U          basic/token-service user; the password is read from --password-env
  --password-env VAR    name of the environment variable holding the password
  --concurrency N       parallel blob uploads (default 8)
  --inventory DIR       inventory for the default registry (default: the repository's inventory/)
  --json                print what was uploaded/mounted/skipped per image and chart on stdout
Environment: LUMEN_UPLOAD_CHUNK_BYTES (default 16777216), LUMEN_REGISTRY_RETRIES (default 4).
${exitCodes}`,
  async run(args) {
    const { values, positionals } = parseFlags('bundle push', args, {
      registry: { type: 'string' },
      'plain-http': { type: 'boolean' },
      ...credentialFlags,
      ...inventoryFlag,
      ...jsonFlag,
      concurrency: { type: 'string' },
    });
    const [dir, extra] = positionals;
    if (!dir || extra !== undefined) throw usageError('bundle push', 'exactly one bundle directory is required');
    let host = values.registry;
    let plainHttp = values['plain-http'] ?? false;
    if (host === undefined) {
      const inv = await inventory(values.inventory, false);
      host = inv.site.registry;
      plainHttp = values['plain-http'] ?? inv.site.plainHttp;
    }
    if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(host))
      throw usageError('bundle push', `--registry must be host[:port], got '${host}'`);
    const creds = credentials('bundle push', values.username, values['password-env']);
    const { registryPool } = await import('./registries.ts');
    const { pushBundle } = await import('./bundle-push.ts');
    const registry = registryPool({
      plainHttp: new Set(plainHttp ? [host] : []),
      ...(creds ? { credentials: new Map([[host, creds]]) } : {}),
      ...tuning(),
    })(host);
    const progress = new Progress();
    const result = await pushBundle(dir, {
      registry,
      progress,
      concurrency: intFlag('bundle push', 'concurrency', values.concurrency, 8),
    });
    progress.finish(
      `pushed ${result.items.length} items to ${host}: ${result.uploaded} blobs uploaded (${formatBytes(result.bytes)}), ${result.mounted} mounted, ${result.skipped} already there${result.resumes ? `, ${result.resumes} uploads resumed` : ''}`,
    );
    if (values.json) printJson({ registry: host, ...result });
    return 0;
  },
};

const bundleLs: Command = {
  summary: 'list the images, charts and files of a bundle',
  usage: `usage: lumen bundle ls DIR [--json]

Lists what DIR carries (from lumen-bundle.json): images with tag, platforms and digest, charts with
version and digest, files. Does not re-hash (see 'lumen bundle verify').
${exitCodes}`,
  async run(args) {
    const { values, positionals } = parseFlags('bundle ls', args, { ...jsonFlag });
    const [dir, extra] = positionals;
    if (!dir || extra !== undefined) throw usageError('bundle ls', 'exactly one bundle directory is required');
    const { readBundle } = await import('./bundle.ts');
    const { manifest } = await readBundle(dir);
    if (values.json) {
      printJson(manifest);
      return 0;
    }
    const total = Object.values(manifest.blobs).reduce((a, b) => a + b, 0);
    const lines = [
      ...manifest.images.map(
        (i) =>
          `image  ${i.name}  ${i.repository}:${i.tag}  ${i.platforms.join(',')}  ${i.digest}${i.signature ? '  signed' : ''}`,
      ),
      ...manifest.charts.map((c) => `chart  ${c.name}  ${c.repository}:${c.tag}  ${c.digest}`),
      ...manifest.files.map((f) => `file   ${f.name}  ${f.version}  ${formatBytes(f.size)}  ${f.digest}`),
      `${manifest.images.length} images, ${manifest.charts.length} charts, ${manifest.files.length} files, ${Object.keys(manifest.blobs).length} blobs, ${formatBytes(total)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};

/** Writes a file that must not already exist, atomically, with `mode`. */
async function writeNew(path: string, text: string, mode: number, force: boolean): Promise<void> {
  if (
    !force &&
    (await stat(path).then(
      () => true,
      () => false,
    ))
  ) {
    throw new SupplyError(SupplyErrorCode.exists, `${path} exists (use --force to replace it)`);
  }
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(tmp, mode);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new SupplyError(SupplyErrorCode.io, `cannot write ${path}: ${(err as Error).message}`);
  }
}

const keygen: Command = {
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
    const { generateKeys } = await import('./keys.ts');
    const keys = generateKeys(password);
    const keyPath = join(values.out, 'cosign.key');
    const pubPath = join(values.out, 'cosign.pub');
    await writeNew(keyPath, keys.privatePem, 0o600, values.force);
    await writeNew(pubPath, keys.publicPem, 0o644, values.force);
    process.stderr.write(
      `wrote ${keyPath} (${password === undefined ? 'unencrypted PKCS#8' : 'encrypted'}) and ${pubPath}\n`,
    );
    if (values.json) printJson({ privateKey: keyPath, publicKey: pubPath, encrypted: password !== undefined });
    return 0;
  },
};

/** Parses REF arguments; each must name a registry host. */
async function refsOf(command: string, positionals: string[]): Promise<Reference[]> {
  if (positionals.length === 0) throw usageError(command, 'at least one image reference is required');
  const { parseReference } = await import('@lumen/oci');
  return positionals.map((p) => parseReference(p));
}

const sign: Command = {
  summary: 'sign images cosign-compatibly (sha256-<hex>.sig tag, no transparency log)',
  usage: `usage: lumen sign --key KEY [--plain-http] [--username U --password-env VAR] [--json] REF...

Signs each image REF (host[:port]/repo[:tag][@digest]; a tag is resolved to its digest) with the
ECDSA P-256 key KEY: a PKCS#8 PEM, or cosign's encrypted cosign.key (password from COSIGN_PASSWORD).
The signature is stored as cosign does without Rekor: an OCI manifest tagged sha256-<hex>.sig in
the image's repository, one simple-signing layer per signature. Verifiable by 'cosign verify
--key cosign.pub --insecure-ignore-tlog' and 'lumen verify'.

  --plain-http        speak plain HTTP to the registries of REF (default HTTPS)
  --username U        registry user; password from the variable named by --password-env
  --json              print the signed references on stdout
${exitCodes}`,
  async run(args) {
    const { values, positionals } = parseFlags('sign', args, {
      key: { type: 'string' },
      'plain-http': { type: 'boolean', default: false },
      ...credentialFlags,
      ...jsonFlag,
    });
    if (!values.key) throw usageError('sign', '--key KEY is required');
    const refs = await refsOf('sign', positionals);
    const { loadPrivateKey } = await import('./keys.ts');
    const { createPublicKey } = await import('node:crypto');
    const { registryPool } = await import('./registries.ts');
    const { signImage } = await import('./signature.ts');
    const { formatReference } = await import('@lumen/oci');
    const key = await loadPrivateKey(values.key, process.env.COSIGN_PASSWORD);
    const publicKey = createPublicKey(key);
    const creds = credentials('sign', values.username, values['password-env']);
    const pool = registryPool({
      plainHttp: new Set(values['plain-http'] ? refs.map((r) => r.registry) : []),
      ...(creds ? { credentials: new Map(refs.map((r) => [r.registry, creds])) } : {}),
      ...tuning(),
    });
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
    return 0;
  },
};

async function resolveDigest(registry: Registry, ref: Reference) {
  const head = await registry.headManifest(ref.repository, ref.tag ?? 'latest');
  if (!head) {
    const { formatReference } = await import('@lumen/oci');
    throw new SupplyError(SupplyErrorCode.signatureInvalid, `${formatReference(ref)}: image not found`);
  }
  return head.digest;
}

const verify: Command = {
  summary: "verify images' cosign signatures against a public key",
  usage: `usage: lumen verify --key PUB [--plain-http] [--username U --password-env VAR] [--json] REF...

For each image REF, fetches sha256-<hex>.sig and accepts the image when at least one signature
layer verifies with PUB (PEM public key, cosign.pub) and its payload names the image's digest.
Exit 1 when any image has no valid signature (unsigned, wrong key, tampered payload), naming why.

  --plain-http        speak plain HTTP to the registries of REF (default HTTPS)
  --username U        registry user; password from the variable named by --password-env
  --json              print per image {reference, verified, rejected} on stdout
${exitCodes}`,
  async run(args) {
    const { values, positionals } = parseFlags('verify', args, {
      key: { type: 'string' },
      'plain-http': { type: 'boolean', default: false },
      ...credentialFlags,
      ...jsonFlag,
    });
    if (!values.key) throw usageError('verify', '--key PUB is required');
    const refs = await refsOf('verify', positionals);
    const { loadPublicKey } = await import('./keys.ts');
    const { registryPool } = await import('./registries.ts');
    const { verifyImage } = await import('./signature.ts');
    const publicKey = await loadPublicKey(values.key);
    const creds = credentials('verify', values.username, values['password-env']);
    const pool = registryPool({
      plainHttp: new Set(values['plain-http'] ? refs.map((r) => r.registry) : []),
      ...(creds ? { credentials: new Map(refs.map((r) => [r.registry, creds])) } : {}),
      ...tuning(),
    });
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
    return 0;
  },
};

const mirrorConfigCommand: Command = {
  summary: 'write the K3s registries.yaml that mirrors every upstream registry to the airgap registry',
  usage: `usage: lumen mirror-config [--out FILE] [--inventory DIR]

Writes K3s registries.yaml: mirrors.<host>.endpoint for every upstream registry host of the
inventory's images (and the airgap registry itself) pointing at site.registry (http:// when
site.plainHttp), with a rewrite only where an airgap path differs from the upstream path.
Prints to stdout without --out; with --out the file is written atomically.
${exitCodes}`,
  async run(args) {
    const { values } = parseFlags('mirror-config', args, { out: { type: 'string' }, ...inventoryFlag }, false);
    const { mirrorConfigYaml } = await import('./mirror-config.ts');
    const text = mirrorConfigYaml(await inventory(values.inventory, false));
    if (!values.out) {
      process.stdout.write(text);
      return 0;
    }
    const out = resolve(values.out);
    await mkdir(dirname(out), { recursive: true }).catch(() => undefined);
    await writeNew(out, text, 0o644, true);
    process.stderr.write(`wrote ${out}\n`);
    return 0;
  },
};

/** This package's lumen subcommands (see packages/cli/src/main.ts for the owner table). */
export const commands: CommandTable = {
  'inventory lock': inventoryLock,
  'bundle create': bundleCreate,
  'bundle verify': bundleVerify,
  'bundle push': bundlePush,
  'bundle ls': bundleLs,
  keygen,
  sign,
  verify,
  'mirror-config': mirrorConfigCommand,
};
