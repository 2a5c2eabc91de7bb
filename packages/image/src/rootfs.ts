/**
 * The base layer of lumen-api's image, distroless-style (docs/image.md): the files of pinned Debian packages as
 * dpkg would unpack them (no maintainer scripts run), what their scripts would have generated (the CA bundle, the
 * local time zone), dpkg's status entries where scanners look for them (`/var/lib/dpkg/status.d/<package>`, the
 * distroless convention), a non-root user 10001, and the Node.js binary of the target architecture.
 */
import { gunzipSync } from 'node:zlib';
import { readTar, type TarEntry, type TarInput } from '@lumen/oci';
import { type DebPackage, readDeb } from './deb.ts';
import { ImageError, ImageErrorCode } from './errors.ts';

/** The uid and gid the image runs as. */
export const runtimeUser = 10001;

/** One input of the base: a Debian package or Node's npm tarball, with its bytes. */
export interface BaseInput {
  name: string;
  version: string;
  kind: 'deb' | 'node';
  bytes: Buffer;
}

/** What the base holds, for the SBOM and the annotations. */
export interface BaseContents {
  entries: TarInput[];
  debs: Array<{ name: string; version: string; architecture: string; source: string }>;
  node: { version: string };
}

/** Documentation paths dropped from packages (their licence texts, `copyright`, are kept). */
function isDocumentation(path: string): boolean {
  if (/^usr\/share\/doc\/[^/]+\/copyright$/.test(path)) return false;
  return /^usr\/share\/(doc|man|info|lintian|bug)(\/|$)/.test(path);
}

const text = (s: string) => Buffer.from(s, 'utf8');

function generatedFiles(certificates: Buffer | undefined): TarInput[] {
  const root = { uid: 0, gid: 0 };
  const user = { uid: runtimeUser, gid: runtimeUser };
  return [
    {
      path: 'etc/passwd',
      type: 'file',
      mode: 0o644,
      data: text(
        `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${runtimeUser}:${runtimeUser}:nonroot:/home/nonroot:/sbin/nologin\n`,
      ),
    },
    { path: 'etc/group', type: 'file', mode: 0o644, data: text(`root:x:0:\nnonroot:x:${runtimeUser}:\n`) },
    { path: 'etc/nsswitch.conf', type: 'file', mode: 0o644, data: text('hosts: files dns\nnetworks: files\n') },
    {
      path: 'etc/os-release',
      type: 'file',
      mode: 0o644,
      data: text(
        'PRETTY_NAME="lumen base (Debian GNU/Linux 12 packages)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL="https://www.debian.org/"\n',
      ),
    },
    // What ca-certificates' postinst (update-ca-certificates) would write: every certificate it ships, in order.
    ...(certificates
      ? [{ path: 'etc/ssl/certs/ca-certificates.crt', type: 'file', mode: 0o644, data: certificates } as const]
      : []),
    // What tzdata's postinst would set up for UTC.
    { path: 'etc/localtime', type: 'symlink', mode: 0o777, linkname: '../usr/share/zoneinfo/Etc/UTC' },
    { path: 'etc/timezone', type: 'file', mode: 0o644, data: text('Etc/UTC\n') },
    { path: 'root', type: 'dir', mode: 0o700, ...root },
    { path: 'tmp', type: 'dir', mode: 0o1777, ...root },
    { path: 'home/nonroot', type: 'dir', mode: 0o700, ...user },
    // lumen-api's embedded-mode data directory (a volume in the image config; never written in the cluster).
    { path: 'data', type: 'dir', mode: 0o755, ...user },
  ];
}

function nodeEntries(input: BaseInput): { entries: TarInput[]; version: string } {
  let files: TarEntry[];
  try {
    files = [...readTar(gunzipSync(input.bytes))];
  } catch (err) {
    throw new ImageError(
      ImageErrorCode.inputInvalid,
      `${input.name} is not an npm package tarball: ${(err as Error).message}`,
    );
  }
  const binary = files.find((f) => f.path === 'package/bin/node' && f.type === 'file');
  const manifest = files.find((f) => f.path === 'package/package.json');
  if (!binary || !manifest) {
    throw new ImageError(
      ImageErrorCode.inputInvalid,
      `${input.name} has no package/bin/node: not a Node.js binary package`,
    );
  }
  const version = (JSON.parse(Buffer.from(manifest.data).toString('utf8')) as { version?: string }).version ?? '';
  if (version !== input.version) {
    throw new ImageError(
      ImageErrorCode.inputInvalid,
      `${input.name} holds Node.js ${version}, the inventory says ${input.version}`,
    );
  }
  const entries: TarInput[] = [{ path: 'usr/local/bin/node', type: 'file', mode: 0o755, data: binary.data }];
  const license = files.find((f) => f.path === 'package/LICENSE');
  if (license)
    entries.push({ path: 'usr/local/share/doc/node/LICENSE', type: 'file', mode: 0o644, data: license.data });
  return { entries, version };
}

/** The base layer's entries from its inputs (any order: the result is sorted by the tar writer). */
export async function baseContents(inputs: BaseInput[]): Promise<BaseContents> {
  const node = inputs.filter((i) => i.kind === 'node');
  if (node.length !== 1) {
    throw new ImageError(
      ImageErrorCode.inputMissing,
      `the base needs exactly one Node.js input, the inventory gives ${node.length}`,
    );
  }
  const debs: Array<{ input: BaseInput; pkg: DebPackage }> = [];
  for (const input of inputs.filter((i) => i.kind === 'deb').sort((a, b) => a.name.localeCompare(b.name))) {
    debs.push({ input, pkg: await readDeb(input.bytes, input.name) });
  }
  const byPath = new Map<string, TarInput>();
  const add = (entry: TarInput, owner: string) => {
    const had = byPath.get(entry.path);
    if (had) {
      if (had.type === 'dir' && entry.type === 'dir') return;
      throw new ImageError(ImageErrorCode.inputInvalid, `${entry.path} is shipped twice (again by ${owner})`);
    }
    byPath.set(entry.path, entry);
  };
  for (const { input, pkg } of debs) {
    const packageName = pkg.control.Package ?? input.name;
    if (pkg.control.Version !== input.version) {
      throw new ImageError(
        ImageErrorCode.inputInvalid,
        `${input.name} is ${packageName} ${pkg.control.Version}, the inventory says ${input.version}`,
      );
    }
    for (const file of pkg.files) {
      if (isDocumentation(file.path) || file.type === 'other') continue;
      add(
        {
          path: file.path,
          type: file.type,
          mode: file.mode,
          uid: 0,
          gid: 0,
          ...(file.type === 'symlink' || file.type === 'hardlink'
            ? { linkname: file.type === 'hardlink' ? file.linkname.replace(/^(\.\/)+/, '') : file.linkname }
            : {}),
          ...(file.type === 'file' ? { data: file.data } : {}),
        },
        packageName,
      );
    }
    add(
      { path: `var/lib/dpkg/status.d/${packageName}`, type: 'file', mode: 0o644, data: text(pkg.controlText) },
      packageName,
    );
  }
  // Certificates in path order, as update-ca-certificates concatenates them.
  const ordered = debs
    .flatMap(({ pkg }) => pkg.files)
    .filter((f) => f.type === 'file' && /^usr\/share\/ca-certificates\/.+\.crt$/.test(f.path))
    .sort((a, b) => (a.path < b.path ? -1 : 1))
    .map((f) => Buffer.from(f.data));
  const nodePart = nodeEntries(node[0] as BaseInput);
  for (const entry of [...generatedFiles(ordered.length > 0 ? Buffer.concat(ordered) : undefined), ...nodePart.entries])
    add(entry, 'lumen');
  return {
    entries: [...byPath.values()],
    debs: debs.map(({ input, pkg }) => ({
      name: pkg.control.Package ?? input.name,
      version: pkg.control.Version ?? input.version,
      architecture: pkg.control.Architecture ?? '',
      source: (pkg.control.Source ?? pkg.control.Package ?? '').replace(/\s.*$/, ''),
    })),
    node: { version: nodePart.version },
  };
}
