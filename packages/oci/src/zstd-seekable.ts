/**
 * The Zstandard seekable format (zstd's contrib/seekable_format/zstd_seekable_compression_format.md): independent
 * zstd frames, then a skippable frame holding a seek table — per frame its compressed and decompressed size — whose
 * footer ends the file. Plain `zstd -d` and `tar --zstd` skip the table, so the file stays an ordinary `.zst`, while
 * a reader that knows the table decompresses only the frames covering the bytes it wants.
 *
 * Here: the seek table (write and read), a walk of the frames by their headers alone (how a writer finds where an
 * interrupted run stopped, and how a reader tells a torn file from one that has no table), and a stream of any byte
 * range of the decompressed content.
 */
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { createZstdDecompress } from 'node:zlib';

/** Magic_Number of a zstd frame (RFC 8878 §3.1.1), little-endian at its first byte. */
export const zstdMagic = 0xfd2fb528;
/** Skippable frames carry magic numbers 0x184D2A50–0x184D2A5F (RFC 8878 §3.1.2); the seek table uses …5E. */
const skippableMask = 0xfffffff0;
const skippableMagic = 0x184d2a50;
const seekTableMagic = 0x184d2a5e;
const seekableMagic = 0x8f92eab1;
/** Number_Of_Frames (4), Seek_Table_Descriptor (1), Seekable_Magic_Number (4). */
const footerSize = 9;
/** Skippable frame header: magic (4), Frame_Size (4). */
const skippableHeaderSize = 8;

/** One zstd frame: where its bytes are in the file and which bytes of the decompressed content it holds. */
export interface ZstdFrame {
  /** Offset of the frame in the file. */
  offset: number;
  size: number;
  /** Offset of its first decompressed byte in the whole content. */
  contentOffset: number;
  contentSize: number;
}

/** The skippable frame that ends a seekable file, for frames of these sizes (no per-frame checksums). */
export function seekTable(frames: readonly Pick<ZstdFrame, 'size' | 'contentSize'>[]): Buffer {
  const tableSize = frames.length * 8 + footerSize;
  const table = Buffer.alloc(skippableHeaderSize + tableSize);
  table.writeUInt32LE(seekTableMagic, 0);
  table.writeUInt32LE(tableSize, 4);
  frames.forEach((frame, i) => {
    table.writeUInt32LE(frame.size, skippableHeaderSize + i * 8);
    table.writeUInt32LE(frame.contentSize, skippableHeaderSize + i * 8 + 4);
  });
  const footer = skippableHeaderSize + frames.length * 8;
  table.writeUInt32LE(frames.length, footer);
  table.writeUInt8(0, footer + 4);
  table.writeUInt32LE(seekableMagic, footer + 5);
  return table;
}

/** What the end of a file says: its frames, no seek table at all, or a table that does not fit the file. */
export type SeekTableRead =
  | { kind: 'frames'; frames: ZstdFrame[]; contentSize: number }
  | { kind: 'absent' }
  | { kind: 'damaged'; at: number };

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const data = Buffer.alloc(length);
  const { bytesRead } = await handle.read(data, 0, length, position);
  return data.subarray(0, bytesRead);
}

/** Reads the seek table from the end of a file of `size` bytes and checks that its frames fill the file exactly. */
export async function readSeekTable(handle: FileHandle, size: number): Promise<SeekTableRead> {
  if (size < footerSize) return { kind: 'absent' };
  const footer = await readAt(handle, size - footerSize, footerSize);
  if (footer.readUInt32LE(5) !== seekableMagic) return { kind: 'absent' };
  const count = footer.readUInt32LE(0);
  const descriptor = footer.readUInt8(4);
  // Bits 2–6 are reserved and must be zero; bit 7 says each entry carries a 4-byte checksum.
  const entrySize = descriptor & 0x80 ? 12 : 8;
  const tableSize = count * entrySize + footerSize;
  const start = size - skippableHeaderSize - tableSize;
  if (descriptor & 0x7c || start < 0) return { kind: 'damaged', at: size };
  const table = await readAt(handle, start, skippableHeaderSize + tableSize);
  if (table.readUInt32LE(0) !== seekTableMagic || table.readUInt32LE(4) !== tableSize) {
    return { kind: 'damaged', at: start };
  }
  const frames: ZstdFrame[] = [];
  let offset = 0;
  let contentOffset = 0;
  for (let i = 0; i < count; i++) {
    const at = skippableHeaderSize + i * entrySize;
    const frame = { offset, size: table.readUInt32LE(at), contentOffset, contentSize: table.readUInt32LE(at + 4) };
    frames.push(frame);
    offset += frame.size;
    contentOffset += frame.contentSize;
  }
  if (offset !== start) return { kind: 'damaged', at: Math.min(offset, start) };
  return { kind: 'frames', frames, contentSize: contentOffset };
}

/** A frame as its headers describe it; `contentSize` only when the frame header carries Frame_Content_Size. */
export interface WalkedFrame {
  offset: number;
  size: number;
  skippable: boolean;
  contentSize?: number;
}

/** The whole frames of a file, in order, and whether the walk reached the end (`eof`) or a torn or foreign frame. */
export interface FrameWalk {
  frames: WalkedFrame[];
  /** Offset just after the last whole frame. */
  end: number;
  stop: 'eof' | 'torn';
}

/**
 * Walks the frames of a file by their headers alone (RFC 8878 §3.1): the frame header (descriptor, window, dictionary
 * id, Frame_Content_Size), then the 3-byte block headers (Last_Block, Block_Type, Block_Size) with the block contents
 * skipped, then the optional 4-byte content checksum; skippable frames by their Frame_Size. Nothing is decompressed.
 */
export async function walkZstdFrames(handle: FileHandle, size: number): Promise<FrameWalk> {
  const frames: WalkedFrame[] = [];
  let offset = 0;
  const torn = (): FrameWalk => ({ frames, end: offset, stop: 'torn' });
  while (offset < size) {
    if (offset + skippableHeaderSize > size) return torn();
    const head = await readAt(handle, offset, 18);
    const magic = head.readUInt32LE(0);
    if ((magic & skippableMask) >>> 0 === skippableMagic) {
      const next = offset + skippableHeaderSize + head.readUInt32LE(4);
      if (next > size) return torn();
      frames.push({ offset, size: next - offset, skippable: true });
      offset = next;
      continue;
    }
    if (magic !== zstdMagic) return torn();
    const descriptor = head.readUInt8(4);
    const fcsFlag = descriptor >> 6;
    const singleSegment = (descriptor >> 5) & 1;
    if (descriptor & 0x08) return torn(); // reserved bit
    const dictIdSize = [0, 1, 2, 4][descriptor & 3] as number;
    const fcsSize = fcsFlag === 0 ? singleSegment : ([1, 2, 4, 8][fcsFlag] as number);
    const fcsAt = 5 + (singleSegment ? 0 : 1) + dictIdSize;
    let pos = offset + fcsAt + fcsSize;
    if (pos > size) return torn();
    const contentSize =
      fcsSize === 0
        ? undefined
        : fcsSize === 1
          ? head.readUInt8(fcsAt)
          : fcsSize === 2
            ? head.readUInt16LE(fcsAt) + 256
            : fcsSize === 4
              ? head.readUInt32LE(fcsAt)
              : Number(head.readBigUInt64LE(fcsAt));
    for (let last = false; !last; ) {
      if (pos + 3 > size) return torn();
      const block = await readAt(handle, pos, 3);
      const header = block.readUIntLE(0, 3);
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      if (type === 3) return torn(); // reserved block type
      // Raw and compressed blocks hold Block_Size bytes; an RLE block holds the one byte it repeats.
      pos += 3 + (type === 1 ? 1 : header >>> 3);
    }
    if (descriptor & 0x04) pos += 4;
    if (pos > size) return torn();
    frames.push({
      offset,
      size: pos - offset,
      skippable: false,
      ...(contentSize === undefined ? {} : { contentSize }),
    });
    offset = pos;
  }
  return { frames, end: offset, stop: 'eof' };
}

/**
 * The leading zstd frames of a walk as content frames: up to the first skippable frame (a seek table ends the
 * content) or the first frame whose header does not give its content size.
 */
export function contentFrames(walk: FrameWalk): ZstdFrame[] {
  const frames: ZstdFrame[] = [];
  let contentOffset = 0;
  for (const { offset, size, skippable, contentSize } of walk.frames) {
    if (skippable || contentSize === undefined) break;
    frames.push({ offset, size, contentOffset, contentSize });
    contentOffset += contentSize;
  }
  return frames;
}

/** Why a frame could not give its bytes: it does not decompress, or not to the size the seek table says. */
export class CorruptFrame extends Error {
  readonly frame: ZstdFrame;
  constructor(frame: ZstdFrame, reason: string) {
    super(`zstd frame at byte ${frame.offset} ${reason}`);
    this.frame = frame;
  }
}

const chunk = 1024 * 1024;

/** Index of the frame holding content byte `position` (frames sorted by content offset, none empty in between). */
function frameAt(frames: readonly ZstdFrame[], position: number): number {
  let lo = 0;
  let hi = frames.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((frames[mid] as ZstdFrame).contentOffset <= position) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The decompressed content bytes `[start, end)` of a seekable `file`, decompressing only the frames that cover them,
 * one frame at a time and streamed (memory stays at a few chunks, whatever the frame size). A frame that does not
 * decompress, or not to its size, throws {@link CorruptFrame}.
 */
export async function* readFrames(
  file: string,
  frames: readonly ZstdFrame[],
  start: number,
  end: number,
): AsyncGenerator<Buffer> {
  if (start >= end || frames.length === 0) return;
  for (let i = frameAt(frames, start); i < frames.length; i++) {
    const frame = frames[i] as ZstdFrame;
    if (frame.contentOffset >= end) return;
    if (frame.contentSize === 0) continue;
    const from = Math.max(start - frame.contentOffset, 0);
    const to = Math.min(end - frame.contentOffset, frame.contentSize);
    // 1 MiB chunks: zlib's default 16 KiB made re-hashing a .tar.zst of random layers 3x slower (one thread-pool
    // round trip per chunk).
    const decompress = createZstdDecompress({ chunkSize: chunk });
    const source = createReadStream(file, {
      start: frame.offset,
      end: frame.offset + frame.size - 1,
      highWaterMark: chunk,
    });
    let readError: Error | undefined;
    source.on('error', (err) => {
      readError = err;
      decompress.destroy(err);
    });
    source.pipe(decompress);
    let at = 0;
    try {
      for await (const chunk of decompress as AsyncIterable<Buffer>) {
        const next = at + chunk.length;
        if (next > from && at < to) yield chunk.subarray(Math.max(from - at, 0), Math.min(to - at, chunk.length));
        at = next;
        // Past the wanted bytes of a frame that is not wholly wanted: stop decompressing it.
        if (at >= to && to < frame.contentSize) break;
      }
    } catch (err) {
      if (readError !== undefined) throw readError;
      throw new CorruptFrame(frame, `does not decompress (${(err as Error).message})`);
    } finally {
      source.destroy();
      decompress.destroy();
    }
    if (at < to || (to === frame.contentSize && at !== frame.contentSize)) {
      throw new CorruptFrame(frame, `decompresses to ${at} bytes, the seek table says ${frame.contentSize}`);
    }
  }
}
