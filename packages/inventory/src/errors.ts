/**
 * The one way @lumen/inventory fails: an {@link InventoryError} with a stable `code` and
 * `exitCode` 2 (bad input), which the CLI edge prints as one line (see packages/cli/src/errors.ts).
 * Every message names the file and the field, so the fix is obvious without a stack trace.
 */

/** Stable error codes. Scripts and tests may rely on them; never rename one. */
export const InventoryErrorCode = {
  /** A file is missing, is not YAML, or breaks the schema (unknown field, missing version, bad reference…). */
  invalid: 'INVENTORY_INVALID',
  /** A name that no image in `images.yaml` carries. */
  unknownImage: 'INVENTORY_UNKNOWN_IMAGE',
  /** A name that no chart in `charts.yaml` carries. */
  unknownChart: 'INVENTORY_UNKNOWN_CHART',
  /** A name that no file in `files.yaml` carries. */
  unknownFile: 'INVENTORY_UNKNOWN_FILE',
  /** An image, chart or file has no digest in `lock.yaml`, or its lock entry is for another version. */
  notLocked: 'INVENTORY_NOT_LOCKED',
  /** Not a valid image reference (`host[:port]/path[:tag][@sha256:…]`). */
  badReference: 'INVENTORY_BAD_REFERENCE',
} as const;

/** One of the {@link InventoryErrorCode} strings. */
export type InventoryErrorCodeValue = (typeof InventoryErrorCode)[keyof typeof InventoryErrorCode];

/** Exit code of every inventory error: the input is wrong, not the machine or the network. */
export const INVENTORY_EXIT_CODE = 2;

/**
 * An inventory error. `issues` holds one line per problem found (a load reports all of them at
 * once); `message` is those lines joined, so the CLI's single line still names every problem.
 */
export class InventoryError extends Error {
  readonly code: InventoryErrorCodeValue;
  readonly exitCode: number = INVENTORY_EXIT_CODE;
  readonly issues: readonly string[];
  constructor(code: InventoryErrorCodeValue, issues: string | readonly string[], options?: ErrorOptions) {
    const list = typeof issues === 'string' ? [issues] : issues;
    super(list.join('; '), options);
    this.name = 'InventoryError';
    this.code = code;
    this.issues = list;
  }
}
