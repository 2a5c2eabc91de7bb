/** Inventory test helpers: the editable copy comes from @lumen/testkit; `expectCoded` is the inventory's own. */
import type { InventoryCopy } from '@lumen/testkit/inventory';

export { copyInventory, type InventoryCopy } from '@lumen/testkit/inventory';

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

/** Removes lumen-api's release from a copy's lock (with its comment): the state before CI's first release. */
export function unreleased(copy: InventoryCopy): void {
  copy.edit('lock.yaml', /(?: {2}#[^\n]*\n)* {2}lumen-api:\n {4}tag: [^\n]+\n {4}digest: [^\n]+\n/, '');
}
