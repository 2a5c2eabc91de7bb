/** A directory tree of the repository as layer entries: the one walk both the app and the node_modules layers use. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TarInput } from '@lumen/oci';

/**
 * Appends the directories and files under `dir` to `out` (not `dir` itself), placed under `into`, in sorted order.
 * Modes are normalised: directories 0755, files 0755 when any execute bit is set, else 0644; owners are root's.
 * `skip(relative path)` leaves an entry (and what it holds) out; `check(relative path)` may throw on a file.
 */
export function treeEntries(
  dir: string,
  into: string,
  out: TarInput[],
  options: { skip?: (rel: string) => boolean; check?: (rel: string) => void } = {},
): void {
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const relPath = rel === '' ? name : `${rel}/${name}`;
      if (options.skip?.(relPath)) continue;
      const st = statSync(join(dir, relPath), { throwIfNoEntry: false });
      if (!st) continue;
      const path = `${into}/${relPath}`;
      if (st.isDirectory()) {
        out.push({ path, type: 'dir', mode: 0o755 });
        walk(relPath);
      } else if (st.isFile()) {
        options.check?.(relPath);
        out.push({ path, type: 'file', mode: st.mode & 0o111 ? 0o755 : 0o644, data: readFileSync(join(dir, relPath)) });
      }
    }
  };
  walk('');
}
