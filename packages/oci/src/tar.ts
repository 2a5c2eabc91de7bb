/**
 * tar archives (POSIX ustar with PAX extended headers): a reader for what lumen unpacks (chart archives, Debian
 * packages' data.tar, npm tarballs) and a deterministic writer for image layers. The writer's bytes depend only on
 * the entries: sorted by path, fixed owners and modes as given, one mtime for all, no user or group names, no
 * device numbers, PAX headers only where a path does not fit ustar — so the same entries give the same archive
 * on any machine.
 */

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  /** Path without a leading `./` or `/`; directories without a trailing `/`. */
  path: string;
  type: TarEntryType;
  /** Permission bits (`0o755`). */
  mode: number;
  uid: number;
  gid: number;
  /** Target of a symlink or hard link. */
  linkname: string;
  /** Contents of a file (empty for other types). */
  data: Uint8Array;
}

const BLOCK = 512;

/** `./usr/lib/` → `usr/lib`. */
export function normalizeTarPath(path: string): string {
  return path
    .replace(/^(\.\/)+/, '')
    .replace(/^\/+/, '')
    .replace(/\/+$/, '');
}

function field(header: Uint8Array, start: number, length: number): string {
  const bytes = header.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return Buffer.from(end === -1 ? bytes : bytes.subarray(0, end)).toString('utf8');
}

function octal(header: Uint8Array, start: number, length: number): number {
  const text = field(header, start, length).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

/** PAX extended header records: `<len> key=value\n`… */
function paxRecords(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  const text = Buffer.from(data).toString('utf8');
  for (let at = 0; at < text.length; ) {
    const space = text.indexOf(' ', at);
    if (space === -1) break;
    const length = Number.parseInt(text.slice(at, space), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = text.slice(space + 1, at + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

const typeOf: Record<string, TarEntryType> = {
  '0': 'file',
  '': 'file',
  '7': 'file',
  '5': 'dir',
  '2': 'symlink',
  '1': 'hardlink',
};

/**
 * The entries of an uncompressed tar archive, in archive order. GNU long names (`L`/`K`) and PAX `path`/`linkpath`
 * records are applied; other extension headers are skipped. Throws on a truncated archive (a member cut short, or
 * no end-of-archive blocks).
 */
export function* readTar(archive: Uint8Array): Generator<TarEntry> {
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  for (let off = 0; off + BLOCK <= archive.length; ) {
    const header = archive.subarray(off, off + BLOCK);
    const parsed = parseTarHeader(header);
    if (parsed.kind === 'end') return;
    if (parsed.kind === 'invalid') throw new Error(`tar archive has a damaged header at byte ${off}`);
    const { size, flag } = parsed;
    const body = archive.subarray(off + BLOCK, off + BLOCK + size);
    if (body.length < size) throw new Error(`tar archive truncated inside ${parsed.name}`);
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'L' || flag === 'K') {
      const value = Buffer.from(body).toString('utf8').replace(/\0.*$/s, '');
      if (flag === 'L') longName = value;
      else longLink = value;
      continue;
    }
    if (flag === 'x') {
      pax = paxRecords(body);
      continue;
    }
    if (flag === 'g') continue;
    const name = pax.get('path') ?? longName ?? parsed.name;
    const linkname = pax.get('linkpath') ?? longLink ?? field(header, 157, 100);
    longName = undefined;
    longLink = undefined;
    pax = new Map();
    yield {
      path: normalizeTarPath(name),
      type: typeOf[flag] ?? 'other',
      mode: octal(header, 100, 8) & 0o7777,
      uid: octal(header, 108, 8),
      gid: octal(header, 116, 8),
      linkname,
      data: typeOf[flag] === 'file' ? body : new Uint8Array(0),
    };
  }
  throw new Error('tar archive truncated (no end-of-archive blocks)');
}

/** An entry to write: files carry `data`, links `linkname`. */
export interface TarInput {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink';
  mode: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  data?: Uint8Array;
}

function writeOctal(header: Buffer, value: number, start: number, length: number): void {
  header.write(`${value.toString(8).padStart(length - 1, '0')}\0`, start, length, 'ascii');
}

const flags = { file: '0', hardlink: '1', symlink: '2', dir: '5' } as const;

function ustarHeader(
  name: string,
  prefix: string,
  flag: string,
  entry: Omit<TarInput, 'path' | 'type'>,
  size: number,
  linkname: string,
  mtime: number,
) {
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, 'utf8');
  writeOctal(header, entry.mode & 0o7777, 100, 8);
  writeOctal(header, entry.uid ?? 0, 108, 8);
  writeOctal(header, entry.gid ?? 0, 116, 8);
  writeOctal(header, size, 124, 12);
  writeOctal(header, mtime, 136, 12);
  header.write(' '.repeat(8), 148, 8, 'ascii');
  header.write(flag, 156, 1, 'ascii');
  header.write(linkname, 157, 100, 'utf8');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  header.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

/** Splits a path into ustar's name (≤ 100 bytes) and prefix (≤ 155 bytes), or undefined when it cannot. */
function splitUstar(path: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  return undefined;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (`${length}`.length + Buffer.byteLength(body) !== length) length = `${length}`.length + Buffer.byteLength(body);
  return `${length}${body}`;
}

const pad = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/**
 * A deterministic tar archive of `entries`: sorted by path (a directory before what it holds), each with the given
 * mode and owner, `mtime` (seconds) on every entry, ended by two zero blocks. Duplicate paths are refused.
 */
export function writeTar(entries: TarInput[], mtime = 0): Buffer {
  const sorted = entries
    .map((e) => ({ ...e, path: normalizeTarPath(e.path) }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: Buffer[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const entry = sorted[i] as TarInput;
    if (i > 0 && sorted[i - 1]?.path === entry.path) throw new Error(`tar: ${entry.path} given twice`);
    const path = entry.type === 'dir' ? `${entry.path}/` : entry.path;
    const data = entry.type === 'file' ? Buffer.from(entry.data ?? new Uint8Array(0)) : Buffer.alloc(0);
    const linkname = entry.linkname ?? '';
    const split = splitUstar(path);
    const longLink = Buffer.byteLength(linkname) > 100;
    if (split === undefined || longLink) {
      const records = Buffer.from(
        (split === undefined ? paxRecord('path', path) : '') + (longLink ? paxRecord('linkpath', linkname) : ''),
      );
      parts.push(
        ustarHeader('PaxHeader', '', 'x', { mode: 0o644 }, records.length, '', mtime),
        records,
        pad(records.length),
      );
    }
    const { name, prefix } = split ?? { name: path.slice(-100), prefix: '' };
    parts.push(
      ustarHeader(name, prefix, flags[entry.type], entry, data.length, longLink ? '' : linkname, mtime),
      data,
      pad(data.length),
    );
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

/**
 * The header block of one regular file (what a streamed archive writes before the file's bytes): ustar, owner 0,
 * `mtime` 0 unless given. The path must fit ustar (name ≤ 100 bytes, or prefix/name split).
 */
export function tarFileHeader(path: string, size: number, mode = 0o644, mtime = 0): Buffer {
  const split = splitUstar(normalizeTarPath(path));
  if (split === undefined) throw new Error(`tar: ${path} does not fit a ustar header`);
  return ustarHeader(split.name, split.prefix, flags.file, { mode }, size, '', mtime);
}

/** Zero bytes that pad `size` bytes of content to the 512-byte block. */
export const tarPadding = (size: number): Buffer => pad(size);

/** The two zero blocks that end a tar archive. */
export const tarEnd = (): Buffer => Buffer.alloc(BLOCK * 2);

/** What a header block says. */
export type TarHeader =
  | { kind: 'end' }
  | { kind: 'invalid' }
  | { kind: 'member'; name: string; size: number; flag: string };

/**
 * One header block read: a member's name (prefix applied), size and type flag; `end` for a zero block; `invalid`
 * when its checksum or size does not hold (a torn or foreign block).
 */
export function parseTarHeader(block: Uint8Array): TarHeader {
  if (block.every((b) => b === 0)) return { kind: 'end' };
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] as number);
  const size = octal(block, 124, 12);
  if (octal(block, 148, 8) !== sum || !Number.isInteger(size) || size < 0) return { kind: 'invalid' };
  const prefix = field(block, 345, 155);
  const name = prefix ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100);
  return { kind: 'member', name, size, flag: field(block, 156, 1) };
}

/** The `path` record of a PAX extended header body, if it has one. */
export function paxPath(body: Uint8Array): string | undefined {
  return paxRecords(body).get('path');
}
