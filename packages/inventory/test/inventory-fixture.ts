/** Inventory test helpers: the editable copy comes from @lumen/testkit; `expectCoded` is the inventory's own. */
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
