/**
 * The one error type of @lumen/supply: a stable `code` and the CLI exit code
 * (packages/cli/src/errors.ts: 1 proof failed, 2 bad usage/input, 3 remote, 4 local I/O).
 * Errors from @lumen/oci and @lumen/inventory already carry code and exitCode and pass through.
 */
export const SupplyErrorCode = {
  /** Unknown flag, missing argument, bad value. Exit 2. */
  usage: 'SUPPLY_USAGE',
  /** The bundle is not a lumen bundle, or lacks its manifest. Exit 4. */
  bundleInvalid: 'SUPPLY_BUNDLE_INVALID',
  /** `bundle verify` found missing or corrupt blobs, or the bundle does not match the inventory. Exit 1. */
  bundleCorrupt: 'SUPPLY_BUNDLE_CORRUPT',
  /** Upstream content differs from the lock (a tag moved, a chart archive changed). Exit 1. */
  lockMismatch: 'SUPPLY_LOCK_MISMATCH',
  /** A chart version missing from its repository's index.yaml, or a malformed chart. Exit 3. */
  chartNotFound: 'SUPPLY_CHART_NOT_FOUND',
  chartInvalid: 'SUPPLY_CHART_INVALID',
  /** Key file unreadable, wrong password, not ECDSA P-256. Exit 2. */
  keyInvalid: 'SUPPLY_KEY_INVALID',
  /** A file keygen would overwrite. Exit 2. */
  exists: 'SUPPLY_EXISTS',
  /** `lumen verify` found no valid signature. Exit 1. */
  signatureInvalid: 'SUPPLY_SIGNATURE_INVALID',
  /** A plain HTTPS download (classic chart repository, file) failed. Exit 3. */
  download: 'SUPPLY_DOWNLOAD',
  /** Local file-system failure. Exit 4. */
  io: 'SUPPLY_IO',
} as const;

export type SupplyErrorCodeValue = (typeof SupplyErrorCode)[keyof typeof SupplyErrorCode];

const exitCodes: Record<SupplyErrorCodeValue, number> = {
  SUPPLY_USAGE: 2,
  SUPPLY_BUNDLE_INVALID: 4,
  SUPPLY_BUNDLE_CORRUPT: 1,
  SUPPLY_LOCK_MISMATCH: 1,
  SUPPLY_CHART_NOT_FOUND: 3,
  SUPPLY_CHART_INVALID: 3,
  SUPPLY_KEY_INVALID: 2,
  SUPPLY_EXISTS: 2,
  SUPPLY_SIGNATURE_INVALID: 1,
  SUPPLY_DOWNLOAD: 3,
  SUPPLY_IO: 4,
};

export class SupplyError extends Error {
  readonly code: SupplyErrorCodeValue;
  readonly exitCode: number;
  /** One line per problem when there are several (bundle verify). */
  readonly issues: readonly string[];
  constructor(code: SupplyErrorCodeValue, message: string, options?: ErrorOptions & { issues?: string[] }) {
    super(message, options);
    this.name = 'SupplyError';
    this.code = code;
    this.exitCode = exitCodes[code];
    this.issues = options?.issues ?? [message];
  }
}
