/**
 * The one way @lumen/platform fails: a {@link PlatformError} with a stable `code` and an
 * `exitCode` the CLI edge turns into `lumen: <message>` (see packages/cli/src/errors.ts).
 */

/** Stable error codes. Scripts and tests may rely on them; never rename one. */
export const PlatformErrorCode = {
  /** A rendered object failed its schema or lumen's own strictness checks (a bug in platform/src). */
  invalidObject: 'PLATFORM_INVALID_OBJECT',
  /** Two components or objects claim the same name, or a component is wired inconsistently. */
  conflict: 'PLATFORM_CONFLICT',
  /** A custom resource whose CRD no component provides, or CRD dependencies that form a cycle. */
  crd: 'PLATFORM_CRD',
  /** Bad command-line usage or input (unknown flag, malformed digest). */
  usage: 'PLATFORM_USAGE',
  /** Reading or writing files failed (deploy/, inventory lock, the cosign public key). */
  io: 'PLATFORM_IO',
  /** A file read from a bundle does not hash to the digest the bundle or the lock pins for it (a failed proof). */
  digest: 'PLATFORM_DIGEST',
} as const;

export type PlatformErrorCodeValue = (typeof PlatformErrorCode)[keyof typeof PlatformErrorCode];

const exitCodes: Record<PlatformErrorCodeValue, number> = {
  PLATFORM_INVALID_OBJECT: 70,
  PLATFORM_CONFLICT: 70,
  PLATFORM_CRD: 70,
  PLATFORM_USAGE: 2,
  PLATFORM_IO: 4,
  PLATFORM_DIGEST: 1,
};

/** A platform error: `code` is stable, `exitCode` follows the CLI's table (usage 2, I/O 4, bug 70). */
export class PlatformError extends Error {
  readonly code: PlatformErrorCodeValue;
  readonly exitCode: number;
  constructor(code: PlatformErrorCodeValue, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PlatformError';
    this.code = code;
    this.exitCode = exitCodes[code];
  }
}
