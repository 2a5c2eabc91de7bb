/**
 * Writing deploy/ and comparing it with a fresh render. deploy/ is entirely generated: files the
 * render no longer produces are deleted, so a removed object disappears from Git (and Argo CD prunes it).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { PlatformError, PlatformErrorCode } from './errors.ts';

function listFiles(root: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(root, { recursive: true, encoding: 'utf8' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .map((e) => join(root, e))
    .filter((p) => {
      try {
        readFileSync(p);
        return true;
      } catch {
        return false;
      }
    })
    .map((p) => relative(root, p));
}

/** Differences between `dir` and `files`: paths missing, extra or with other content. Empty when identical. */
export function diffDeploy(dir: string, files: Map<string, string>): string[] {
  const present = new Set(listFiles(dir));
  const out: string[] = [];
  for (const [path, content] of files) {
    if (!present.has(path)) out.push(`missing ${path}`);
    else if (readFileSync(join(dir, path), 'utf8') !== content) out.push(`differs ${path}`);
  }
  for (const path of present) if (!files.has(path)) out.push(`extra ${path}`);
  return out.sort();
}

/**
 * Makes `dir` hold exactly `files`.
 *
 * @throws {PlatformError} `PLATFORM_IO` when the directory cannot be written.
 */
export function writeDeploy(dir: string, files: Map<string, string>): { written: number; removed: number } {
  try {
    let removed = 0;
    for (const path of listFiles(dir)) {
      if (!files.has(path)) {
        rmSync(join(dir, path));
        removed++;
      }
    }
    let written = 0;
    for (const [path, content] of files) {
      const target = join(dir, path);
      let current: string | undefined;
      try {
        current = readFileSync(target, 'utf8');
      } catch {
        current = undefined;
      }
      if (current === content) continue;
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
      written++;
    }
    // Drop directories left empty by removed components.
    for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort().reverse()) {
      const p = join(dir, entry);
      try {
        if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
      } catch {
        // a file, not a directory
      }
    }
    return { written, removed };
  } catch (err) {
    throw new PlatformError(PlatformErrorCode.io, `cannot write ${dir}: ${(err as Error).message}`, { cause: err });
  }
}
