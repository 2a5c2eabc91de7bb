/** `lumen bundle create|verify|push|ls`: the bundle that carries the inventory across the gap. */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  archiveBundle,
  archiveStage,
  archiveStarted,
  createBundle,
  formatBytes,
  isArchivePath,
  Progress,
  pushBundle,
  readBundle,
  SupplyError,
  SupplyErrorCode,
  verifyBundle,
} from '@lumen/supply';
import { ExitCode } from '../../errors.ts';
import type { Command } from '../../types.ts';
import {
  caFileUsage,
  exitCodes,
  intFlag,
  inventoryAt,
  inventoryFlag,
  jsonFlag,
  parseFlags,
  printJson,
  upstreamFlags,
  usageError,
} from './flags.ts';
import { registryFlags, targetRegistry, tuning } from './registry-access.ts';

export const bundleCreate: Command = {
  summary: 'pull every pinned image, chart and file of the inventory into a bundle (OCI image layout)',
  usage: `usage: lumen bundle create --out DIR|FILE.tar[.zst] [--inventory DIR] [--ca-file FILE]... [--platform OS/ARCH]... [--concurrency N]
                           [--plain-http-registry HOST]... [--json]

Pulls every upstream image (the inventory's platforms), chart (classic repository or OCI, stored
as a Helm OCI artifact) and file into DIR, an OCI image layout with lumen-bundle.json listing every
digest. The inventory must be fully locked; upstream content must match the lock. Resumable:
re-running skips blobs already in DIR after re-hashing them. Cosign signatures found upstream
(sha256-<hex>.sig) are carried along. Credentials come from REGISTRY_AUTH_FILE, DOCKER_CONFIG or
~/.docker/config.json.

  --out DIR|FILE.tar|FILE.tar.zst
                              bundle directory (created, or resumed when it exists), or one archive file:
                              staged in FILE.tar.d, then streamed into FILE.tar (resumable; never twice the disk);
                              FILE.tar.zst is the same tar compressed in zstd's seekable format, read in place too
  --inventory DIR             inventory directory (default: the repository's inventory/)
  --platform OS/ARCH          carry these platforms instead of the inventory's (repeatable; skips the lock check)
  --concurrency N             parallel blob transfers (default 8)
  --plain-http-registry HOST  speak plain HTTP to this registry host:port (repeatable; default HTTPS)
${caFileUsage}
  --json                      print a summary as JSON on stdout
${exitCodes}`,
  async run(args) {
    const { values } = parseFlags(
      'bundle create',
      args,
      {
        out: { type: 'string' },
        ...upstreamFlags,
        platform: { type: 'string', multiple: true },
      },
      false,
    );
    if (!values.out) throw usageError('bundle create', '--out DIR is required');
    const concurrency = intFlag('bundle create', 'concurrency', values.concurrency, 8);
    const inv = inventoryAt(values.inventory, true);
    const progress = new Progress();
    const platforms = values.platform?.flatMap((p) => p.split(',')).filter(Boolean);
    const out = resolve(values.out);
    const archive = isArchivePath(out);
    if (archive && (await stat(out).catch(() => undefined))) {
      throw usageError('bundle create', `${values.out} exists: remove it, or choose another --out`);
    }
    // An archive is staged as a directory bundle next to it (resumable), then streamed into the one file.
    const resumeArchive = archive && (await archiveStarted(out));
    const result = resumeArchive
      ? undefined
      : await createBundle(inv, {
          out: archive ? archiveStage(out) : out,
          ...(platforms?.length ? { platforms } : {}),
          concurrency,
          access: { plainHttp: new Set(values['plain-http-registry'] ?? []), ...tuning() },
          progress,
        });
    const written = archive ? await archiveBundle(archiveStage(out), out, { progress }) : undefined;
    progress.finish(
      [
        result
          ? `bundle ${values.out}: ${result.images} images, ${result.charts} charts, ${result.files} files, ${result.blobs} blobs (${formatBytes(result.bytesTotal)}); fetched ${result.fetched} (${formatBytes(result.bytesFetched)}), reused ${result.reused}${result.pruned ? `, pruned ${result.pruned} unreferenced` : ''}`
          : `bundle ${values.out}: resumed writing the archive`,
        ...(written ? [`one file, ${formatBytes(written.bytes)}`] : []),
      ].join('; '),
    );
    if (values.json) printJson({ bundle: out, ...(result ?? {}), ...(written ? { archiveBytes: written.bytes } : {}) });
    return ExitCode.ok;
  },
};

export const bundleVerify: Command = {
  summary: "prove every blob's digest and the bundle's completeness against the inventory",
  usage: `usage: lumen bundle verify DIR|FILE.tar[.zst] [--inventory DIR | --no-inventory] [--concurrency N] [--json]

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
    const inv = values['no-inventory'] ? undefined : inventoryAt(values.inventory, false);
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
    return ExitCode.ok;
  },
};

export const bundlePush: Command = {
  summary: 'push a bundle (images, signatures, charts as Helm OCI artifacts) into a registry',
  usage: `usage: lumen bundle push DIR|FILE.tar[.zst] [--registry HOST:PORT] [--plain-http] [--ca-file FILE]... [--username U --password-env VAR]
                         [--concurrency N] [--inventory DIR] [--json]

Pushes every image (with its cosign signature tags) to <registry>/<airgap path> and every chart
to <registry>/<charts path>/<chart>:<version>. Skips blobs the registry already has, mounts blobs
already pushed to another repository, uploads the rest in chunks and resumes an interrupted upload.

  --registry HOST:PORT  target registry (default: site.registry of the inventory)
  --plain-http          speak plain HTTP (default: HTTPS; with no --registry, site.plainHttp)
${caFileUsage}
  --username U          basic/token-service user; the password is read from --password-env
  --password-env VAR    name of the environment variable holding the password
  --concurrency N       parallel blob uploads (default 8)
  --inventory DIR       inventory for the default registry (default: the repository's inventory/)
  --json                print what was uploaded/mounted/skipped per image and chart on stdout
Environment: LUMEN_UPLOAD_CHUNK_BYTES (default 67108864), LUMEN_REGISTRY_RETRIES (default 4).
${exitCodes}`,
  async run(args) {
    const { values, positionals } = parseFlags('bundle push', args, {
      ...registryFlags,
      ...inventoryFlag,
      ...jsonFlag,
      concurrency: { type: 'string' },
    });
    const [dir, extra] = positionals;
    if (!dir || extra !== undefined) throw usageError('bundle push', 'exactly one bundle directory is required');
    const registry = targetRegistry('bundle push', values);
    const host = registry.host;
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
    return ExitCode.ok;
  },
};

export const bundleLs: Command = {
  summary: 'list the images, charts and files of a bundle',
  usage: `usage: lumen bundle ls DIR|FILE.tar[.zst] [--json]

Lists what DIR carries (from lumen-bundle.json): images with tag, platforms and digest, charts with
version and digest, files. Does not re-hash (see 'lumen bundle verify').
${exitCodes}`,
  async run(args) {
    const { values, positionals } = parseFlags('bundle ls', args, { ...jsonFlag });
    const [dir, extra] = positionals;
    if (!dir || extra !== undefined) throw usageError('bundle ls', 'exactly one bundle directory is required');
    const { manifest } = await readBundle(dir);
    if (values.json) {
      printJson(manifest);
      return ExitCode.ok;
    }
    const total = Object.values(manifest.blobs).reduce((a, b) => a + b, 0);
    const lines = [
      ...manifest.images.map(
        (i) =>
          `image  ${i.name}  ${i.repository}:${i.tag}  ${i.platforms.join(',') || 'artifact'}  ${i.digest}${i.signature ? '  signed' : ''}`,
      ),
      ...manifest.charts.map((c) => `chart  ${c.name}  ${c.repository}:${c.tag}  ${c.digest}`),
      ...manifest.files.map((f) => `file   ${f.name}  ${f.version}  ${formatBytes(f.size)}  ${f.digest}`),
      `${manifest.images.length} images, ${manifest.charts.length} charts, ${manifest.files.length} files, ${Object.keys(manifest.blobs).length} blobs, ${formatBytes(total)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return ExitCode.ok;
  },
};
