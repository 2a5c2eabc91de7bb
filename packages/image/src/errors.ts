/**
 * The one error type of @lumen/image: a stable `code` and the CLI exit code (1 an input is corrupt, 2 bad usage or
 * an inventory/installation that cannot give the image, 3 the scanner's database cannot be fetched, 4 local I/O,
 * 5 the scanner is not installed). Errors of @lumen/oci, @lumen/inventory and
 * @lumen/supply (downloads: 3) carry their own code and exit code and pass through.
 */
export const ImageErrorCode = {
  /** Bad flag or value. Exit 2. */
  usage: 'IMAGE_USAGE',
  /** The inventory names no input of a kind the image needs for a platform, or one is not locked. Exit 2. */
  inputMissing: 'IMAGE_INPUT_MISSING',
  /** A pinned input that is not what it should be (not a .deb, no bin/node). Exit 1. */
  inputInvalid: 'IMAGE_INPUT_INVALID',
  /** The installed node_modules do not match package-lock.json (run `npm ci`), or a dependency is native. Exit 2. */
  dependencies: 'IMAGE_DEPENDENCIES',
  /** Local file-system failure. Exit 4. */
  io: 'IMAGE_IO',
  /** Trivy is not installed (LUMEN_TRIVY, the tool cache, PATH). Exit 5, like a missing engine of `lumen check`. */
  scannerMissing: 'IMAGE_SCANNER_MISSING',
  /** Trivy could not fetch its vulnerability database from the repository it was given. Exit 3. */
  databaseUnreachable: 'IMAGE_DB_UNREACHABLE',
  /** Trivy refused the SBOM or failed otherwise; its own last error line is the message. Exit 2. */
  scannerFailed: 'IMAGE_SCANNER_FAILED',
} as const;

export type ImageErrorCodeValue = (typeof ImageErrorCode)[keyof typeof ImageErrorCode];

const exitCodes: Record<ImageErrorCodeValue, number> = {
  IMAGE_USAGE: 2,
  IMAGE_INPUT_MISSING: 2,
  IMAGE_INPUT_INVALID: 1,
  IMAGE_DEPENDENCIES: 2,
  IMAGE_IO: 4,
  IMAGE_SCANNER_MISSING: 5,
  IMAGE_DB_UNREACHABLE: 3,
  IMAGE_SCANNER_FAILED: 2,
};

export class ImageError extends Error {
  readonly code: ImageErrorCodeValue;
  readonly exitCode: number;
  constructor(code: ImageErrorCodeValue, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ImageError';
    this.code = code;
    this.exitCode = exitCodes[code];
  }
}
