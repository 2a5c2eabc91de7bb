/**
 * The files a node needs from the bundle (docs/provisioning.md, "Roles: registry, images, k3s"): which inventory
 * file serves which purpose on which architecture, where it goes on the node, with which mode — decided here, so
 * the Ansible roles only copy what `lumen provision node-files` laid out on the controller.
 *
 * Every byte is proven on the way out: the bundle must carry the file under the digest lock.yaml pins (when the lock
 * pins one), and the bytes read must hash to it. A tampered bundle file is refused (exit 1) and nothing of it is left
 * where the roles would pick it up.
 */
import { createWriteStream, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import type { InventoryFile } from '@lumen/inventory';
import { DigestCheck, OciError, OciErrorCode, readTar } from '@lumen/oci';
import { PlatformError, PlatformErrorCode } from '../engine/errors.ts';

/**
 * What each role lays down, as inventory file names with `{arch}` for the node's architecture. The K3s install
 * script travels in the bundle too but is not laid down: the k3s role writes the unit itself (docs/provisioning.md).
 */
export const nodeFileSets = {
  registry: ['distribution-registry-{arch}'],
  k3s: ['k3s-{arch}', 'k3s-airgap-images-{arch}'],
} as const;

export type NodeFileSet = keyof typeof nodeFileSets;

/** Architecture names as Ansible (`ansible_architecture`, uname) and as Go and K3s spell them. */
const archNames: Record<string, string> = { amd64: 'amd64', x86_64: 'amd64', arm64: 'arm64', aarch64: 'arm64' };

/** The K3s/Go name of an architecture (`x86_64` → `amd64`); bad usage for one lumen carries nothing for. */
export function nodeArch(arch: string): string {
  const name = archNames[arch];
  if (!name) {
    throw new PlatformError(
      PlatformErrorCode.usage,
      `unknown architecture '${arch}' (one of ${Object.keys(archNames).join(', ')})`,
    );
  }
  return name;
}

/** A file as the bundle lists it (lumen-bundle.json `files`). */
export interface CarriedFile {
  name: string;
  version: string;
  digest: string;
}

/** The blobs of an opened bundle (`readBundle(...).layout` of @lumen/supply). */
export interface BundleBlobs {
  blobSize(digest: string): Promise<number | undefined>;
  openBlob(digest: string): Readable;
}

/** One file laid out for the nodes: `path` on the controller, `installPath` and `mode` on the node. */
export interface NodeFile {
  name: string;
  version: string;
  digest: string;
  /** Where it is on the controller (under `--out`), ready to be copied. */
  path: string;
  /** Where it goes on the node (files.yaml `installPath`). */
  installPath: string;
  /** `0755` for what goes into a `bin` directory, else `0644`. */
  mode: '0755' | '0644';
}

export interface NodeFilesOptions {
  set: NodeFileSet;
  /** Architectures as the nodes report them (`x86_64`) or as K3s names them (`amd64`). */
  arches: string[];
  /** The inventory's files (installPath, the lock's digest). */
  files: InventoryFile[];
  /** What the bundle carries, and its blobs. */
  carried: CarriedFile[];
  blobs: BundleBlobs;
  /** Where to lay them out: `<out>/<arch>/<basename of installPath>`. */
  out: string;
}

/** Per architecture as given, per purpose (the inventory name without `-<arch>`: `k3s`, `k3s-airgap-images`). */
export type NodeFiles = Record<string, Record<string, NodeFile>>;

/** Lays out every file of `set` for every architecture, each proven by its digest. */
export async function nodeFiles(options: NodeFilesOptions): Promise<NodeFiles> {
  const result: NodeFiles = {};
  for (const given of options.arches) {
    const arch = nodeArch(given);
    const laid: Record<string, NodeFile> = {};
    for (const pattern of nodeFileSets[options.set]) {
      const name = pattern.replace('{arch}', arch);
      laid[pattern.replace('-{arch}', '')] = await layOut(name, arch, options);
    }
    result[given] = laid;
  }
  return result;
}

async function layOut(name: string, arch: string, options: NodeFilesOptions): Promise<NodeFile> {
  const spec = options.files.find((f) => f.name === name);
  if (!spec?.installPath) {
    throw new PlatformError(
      PlatformErrorCode.usage,
      spec
        ? `inventory file ${name} has no installPath (files.yaml): lumen does not know where it goes on the node`
        : `the inventory has no file ${name} (files.yaml), needed by the ${options.set} role`,
    );
  }
  const carried = options.carried.find((f) => f.name === name);
  if (!carried) {
    throw new PlatformError(PlatformErrorCode.usage, `the bundle does not carry file ${name} (lumen bundle ls)`);
  }
  if (spec.digest !== undefined && spec.digest !== carried.digest) {
    throw new PlatformError(
      PlatformErrorCode.digest,
      `the bundle carries ${name} as ${carried.digest}, but lock.yaml pins ${spec.digest}`,
    );
  }
  if ((await options.blobs.blobSize(carried.digest)) === undefined) {
    throw new PlatformError(
      PlatformErrorCode.io,
      `the bundle lists ${name} (${carried.digest}) but holds no blob of it`,
    );
  }
  const target = join(options.out, arch, basename(spec.installPath));
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.partial`;
  try {
    await pipeline(options.blobs.openBlob(carried.digest), new DigestCheck(carried.digest), createWriteStream(partial));
    // A release tarball (Distribution ships `registry` in one): the node gets the member its installPath names.
    if (/\.(tar\.gz|tgz)$/.test(spec.url ?? spec.path ?? '')) {
      writeFileSync(partial, tarMember(gunzipSync(readFileSync(partial)), basename(spec.installPath), name));
    }
    renameSync(partial, target);
  } catch (err) {
    rmSync(partial, { force: true });
    if (err instanceof PlatformError) throw err;
    if (err instanceof OciError && err.code === OciErrorCode.digestMismatch) {
      throw new PlatformError(
        PlatformErrorCode.digest,
        `file ${name} in the bundle does not hash to its digest ${carried.digest} (${err.message}): refused`,
      );
    }
    throw new PlatformError(PlatformErrorCode.io, `cannot lay out ${name} at ${target}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return {
    name,
    version: carried.version,
    digest: carried.digest,
    path: target,
    installPath: spec.installPath,
    mode: /\/bin\/[^/]+$/.test(spec.installPath) ? '0755' : '0644',
  };
}

/** The bytes of the regular file `member` (at the top level or under one directory) of an uncompressed tar. */
function tarMember(tar: Buffer, member: string, name: string): Uint8Array {
  for (const entry of readTar(tar)) {
    if (entry.type === 'file' && entry.path.replace(/^[^/]+\//, '') === member) return entry.data;
  }
  throw new PlatformError(PlatformErrorCode.usage, `file ${name} is a tar archive without a member '${member}'`);
}
