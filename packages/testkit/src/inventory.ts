/**
 * A throw-away copy of the repository's real inventory that a test may edit, removed again by
 * `remove()`. Editing the real data (rather than hand-written miniatures) keeps negative tests
 * honest: each one differs from a valid inventory by exactly one mistake.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository's inventory/ (testkit lives at packages/testkit/src). */
export const repositoryInventory = join(import.meta.dirname, '..', '..', '..', 'inventory');

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

/** Copies an inventory (default: the repository's) into a fresh temp directory. */
export function copyInventory(source: string = repositoryInventory): InventoryCopy {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-inventory-'));
  cpSync(source, dir, { recursive: true });
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
