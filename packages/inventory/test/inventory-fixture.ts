/**
 * Test fixtures: a throw-away copy of the repository's real inventory that a test may edit,
 * removed again by `after()`. Editing the real data (rather than hand-written miniatures) keeps
 * the negative tests honest: each one differs from a valid inventory by exactly one mistake.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_INVENTORY_DIR } from '../src/index.ts';

/** A copy of the real inventory in a temp directory. */
export interface InventoryCopy {
  dir: string;
  /** Replaces `from` (which must occur) with `to` in one file of the copy. */
  edit(file: string, from: string | RegExp, to: string): void;
  /** Overwrites one file of the copy. */
  write(file: string, text: string): void;
  read(file: string): string;
  remove(): void;
}

/** Copies the real inventory into a fresh temp directory. */
export function copyInventory(): InventoryCopy {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-inventory-'));
  cpSync(DEFAULT_INVENTORY_DIR, dir, { recursive: true });
  return {
    dir,
    edit(file, from, to) {
      const path = join(dir, file);
      const text = readFileSync(path, 'utf8');
      const next = text.replace(from, to);
      if (next === text) throw new Error(`fixture edit: ${String(from)} not found in ${file}`);
      writeFileSync(path, next);
    },
    write(file, text) {
      writeFileSync(join(dir, file), text);
    },
    read(file) {
      return readFileSync(join(dir, file), 'utf8');
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn`, expecting it to throw an error with `code`; returns the error for further checks. */
export function expectCoded(
  fn: () => unknown,
  code: string,
): Error & { code: string; exitCode: number; issues?: string[] } {
  try {
    fn();
  } catch (err) {
    const e = err as Error & { code: string; exitCode: number; issues?: string[] };
    if (e.code !== code) throw new Error(`expected ${code}, got ${e.code ?? 'no code'}: ${e.message}`, { cause: err });
    return e;
  }
  throw new Error(`expected an error with code ${code}, nothing was thrown`);
}
