/**
 * The one error type of @lumen/oci. Every failure carries a stable `code` and the exit code
 * the lumen CLI edge uses for it (see packages/cli/src/errors.ts: 1 proof failed, 2 bad input,
 * 3 remote, 4 local I/O), so callers never have to translate.
 */
export const OciErrorCode = {
  /** A reference string that does not parse (`host:port/repo:tag@sha256:…`). Exit 2. */
  referenceInvalid: 'OCI_REFERENCE_INVALID',
  /** A digest string that is not `sha256:<64 hex>`. Exit 2. */
  digestInvalid: 'OCI_DIGEST_INVALID',
  /** Content read from a registry or a layout does not hash to its digest. Exit 1 (layout) / 3 (registry). */
  digestMismatch: 'OCI_DIGEST_MISMATCH',
  /** Connection refused, reset, DNS or TLS failure after every retry. Exit 3. */
  unreachable: 'OCI_UNREACHABLE',
  /** 401/403 that credentials could not fix, or a token endpoint that refused. Exit 3. */
  unauthorized: 'OCI_UNAUTHORIZED',
  /** Manifest or blob not in the registry. Exit 3. */
  notFound: 'OCI_NOT_FOUND',
  /** Any other unexpected HTTP answer. Exit 3. */
  http: 'OCI_HTTP',
  /** A manifest media type lumen does not handle, or an index without a requested platform. Exit 3. */
  manifestUnsupported: 'OCI_MANIFEST_UNSUPPORTED',
  platformMissing: 'OCI_PLATFORM_MISSING',
  /** The OCI image layout on disk is missing, unreadable or malformed. Exit 4. */
  layoutInvalid: 'OCI_LAYOUT_INVALID',
  /** Local file-system failure. Exit 4. */
  io: 'OCI_IO',
  /** The operation was aborted by its signal. Exit 130. */
  aborted: 'OCI_ABORTED',
} as const;

export type OciErrorCodeValue = (typeof OciErrorCode)[keyof typeof OciErrorCode];

export class OciError extends Error {
  readonly code: OciErrorCodeValue;
  readonly exitCode: number;
  /** HTTP status when the error came from a registry answer. */
  readonly status: number | undefined;
  constructor(
    code: OciErrorCodeValue,
    message: string,
    exitCode: number,
    options?: ErrorOptions & { status?: number },
  ) {
    super(message, options);
    this.name = 'OciError';
    this.code = code;
    this.exitCode = exitCode;
    this.status = options?.status;
  }
}
