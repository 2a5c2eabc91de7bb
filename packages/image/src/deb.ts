/**
 * Debian binary packages (`.deb`, deb(5)): an ar archive of `debian-binary`, `control.tar.*` and `data.tar.*`.
 * lumen reads the package's control paragraph and the files of data.tar, as dpkg would unpack them, without dpkg.
 */
import { gunzipSync } from 'node:zlib';
import { readTar, type TarEntry } from '@lumen/oci';
import xz from 'xz-decompress';
import { ImageError, ImageErrorCode } from './errors.ts';

export interface DebPackage {
  /** The control paragraph's fields (`Package`, `Version`, `Architecture`, …). */
  control: Record<string, string>;
  /** The control file as written by the package (for dpkg's status database in the image). */
  controlText: string;
  /** The files data.tar unpacks, paths without `./`. */
  files: TarEntry[];
}

/** The members of an ar archive (`!<arch>\n` + 60-byte headers). */
function arMembers(bytes: Buffer, what: string): Map<string, Buffer> {
  if (bytes.subarray(0, 8).toString('latin1') !== '!<arch>\n') {
    throw new ImageError(ImageErrorCode.inputInvalid, `${what} is not a Debian package (no ar archive header)`);
  }
  const members = new Map<string, Buffer>();
  for (let off = 8; off + 60 <= bytes.length; ) {
    const header = bytes.subarray(off, off + 60);
    const name = header.toString('latin1', 0, 16).trim().replace(/\/$/, '');
    const size = Number.parseInt(header.toString('latin1', 48, 58).trim(), 10);
    if (!Number.isFinite(size) || off + 60 + size > bytes.length) {
      throw new ImageError(ImageErrorCode.inputInvalid, `${what}: ar member ${name || '?'} is truncated`);
    }
    members.set(name, bytes.subarray(off + 60, off + 60 + size));
    off += 60 + size + (size % 2);
  }
  return members;
}

async function decompress(name: string, data: Buffer, what: string): Promise<Buffer> {
  if (name.endsWith('.tar')) return data;
  if (name.endsWith('.tar.gz')) return gunzipSync(data);
  if (name.endsWith('.tar.xz')) {
    const stream = new xz.XzReadableStream(new Blob([data]).stream());
    return Buffer.from(await new Response(stream).arrayBuffer());
  }
  throw new ImageError(ImageErrorCode.inputInvalid, `${what}: ${name} is compressed in a way lumen does not read`);
}

function member(members: Map<string, Buffer>, prefix: string, what: string): [string, Buffer] {
  for (const [name, data] of members) if (name.startsWith(prefix)) return [name, data];
  throw new ImageError(ImageErrorCode.inputInvalid, `${what} has no ${prefix}* member`);
}

/** Parses one RFC 822-style control paragraph (continuation lines folded into their field). */
export function parseControl(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (/^\s/.test(line) && last !== undefined) fields[last] += `\n${line}`;
    else {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon);
      fields[last] = line.slice(colon + 1).trim();
    }
  }
  return fields;
}

/** Reads a `.deb`: its control paragraph and the files it installs. `what` names it in errors. */
export async function readDeb(bytes: Buffer, what: string): Promise<DebPackage> {
  const members = arMembers(bytes, what);
  const [controlName, controlData] = member(members, 'control.tar', what);
  const [dataName, dataData] = member(members, 'data.tar', what);
  try {
    const controlTar = await decompress(controlName, controlData, what);
    const controlFile = [...readTar(controlTar)].find((e) => e.path === 'control' && e.type === 'file');
    if (!controlFile) throw new ImageError(ImageErrorCode.inputInvalid, `${what}: control.tar has no control file`);
    const controlText = Buffer.from(controlFile.data).toString('utf8');
    const files = [...readTar(await decompress(dataName, dataData, what))].filter((e) => e.path !== '');
    return { control: parseControl(controlText), controlText, files };
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new ImageError(ImageErrorCode.inputInvalid, `${what}: ${(err as Error).message}`, { cause: err });
  }
}
