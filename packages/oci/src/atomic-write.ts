/**
 * Replacing a file so that a reader, a crash or a power loss finds the old content or the new one,
 * never a part of it: the data goes to a temporary file next to the target, is fsynced, renamed over
 * the target, and the directory is fsynced. rename(2) is atomic but only durable once the directory
 * entry is on disk, and without the file's fsync a file system with delayed allocation (ext4, XFS)
 * may persist the rename before the data: an empty file after a power loss. A failed write removes its temporary file and leaves the
 * target as it was. Errors are the file system's own; callers say what they were writing.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Options of {@link writeFileAtomic} and {@link writeFileAtomicSync}. */
export interface AtomicWriteOptions {
  /**
   * Mode of the new file, applied whatever the umask (0o600 for a private key). Default: 0o666 less
   * the umask, as `fs.writeFile` does.
   */
  mode?: number;
  /**
   * Directory of the temporary file. It must be on the target's file system (a rename cannot cross
   * one); an OCI layout keeps its temporary files in one folder that it clears when opened. Default:
   * the target's directory.
   */
  tmpDir?: string;
}

/**
 * Writes `data` to `path` atomically and durably (see the module comment).
 *
 * @example await writeFileAtomic('inventory/lock.yaml', text);
 * @example await writeFileAtomic('keys/cosign.key', pem, { mode: 0o600 });
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const tmp = tempPath(path, options.tmpDir);
  try {
    // `wx`: never write through a file (or a link) someone else put at the temporary name.
    const fh = await open(tmp, 'wx', options.mode);
    try {
      await fh.writeFile(data);
      if (options.mode !== undefined) await fh.chmod(options.mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (syncsDirectories) {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

/** {@link writeFileAtomic} for synchronous callers (the inventory writers). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const tmp = tempPath(path, options.tmpDir);
  try {
    const fd = openSync(tmp, 'wx', options.mode);
    try {
      writeFileSync(fd, data);
      if (options.mode !== undefined) fchmodSync(fd, options.mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  if (syncsDirectories) {
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}

/** Node cannot open a directory on Windows (EISDIR), so there the directory is not synced. */
const syncsDirectories = process.platform !== 'win32';

function tempPath(path: string, tmpDir: string | undefined): string {
  return join(tmpDir ?? dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}
