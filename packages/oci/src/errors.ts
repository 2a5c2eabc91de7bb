/**
 * The one error type of @lumen/oci. Every failure carries a stable `code` and the exit code
 * the lumen CLI edge uses for it (see packages/cli/src/errors.ts: 1 proof failed, 2 bad input,
 * 3 remote, 4 local I/O), so callers never have to translate.
 */

/** The exit codes an {@link OciError} carries: the CLI's, under the same names. */
export const OciExitCode = {
  /** A proof failed: content in a layout that does not hash to its digest. */
  failed: 1,
  /** Bad input: a reference, digest or platform that does not parse. */
  usage: 2,
  /** The registry or the network failed, or answered what lumen cannot use. */
  remote: 3,
  /** Local I/O failed. */
  io: 4,
  /** Aborted by its signal (SIGINT/SIGTERM at the CLI edge). */
  interrupted: 130,
} as const;

export type OciExitCodeValue = (typeof OciExitCode)[keyof typeof OciExitCode];

/** Stable error codes. Scripts and tests may rely on them; never rename one. */
export const OciErrorCode = {
  /** A reference string that does not parse (`host:port/repo:tag@sha256:…`). Exit 2. */
  referenceInvalid: 'OCI_REFERENCE_INVALID',
  /** A digest string that is not `sha256:<64 hex>`. Exit 2. */
  digestInvalid: 'OCI_DIGEST_INVALID',
  /** Content read from a registry or a layout does not hash to its digest. Exit 1 (layout) / 3 (registry). */
  digestMismatch: 'OCI_DIGEST_MISMATCH',
  /** Connection refused, reset, DNS or TLS failure after every retry. Exit 3. */
  unreachable: 'OCI_UNREACHABLE',
  /**
   * TLS failed: the server speaks plain HTTP, or its certificate is not trusted. Asking again cannot
   * help, so it is never retried. Exit 3.
   */
  tls: 'OCI_TLS',
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
  readonly exitCode: OciExitCodeValue;
  /** HTTP status when the error came from a registry answer. */
  readonly status: number | undefined;
  /** How many times the call was made before it gave up: 1 unless it was retried (see `retry`). */
  readonly attempts: number;
  constructor(
    code: OciErrorCodeValue,
    message: string,
    exitCode: OciExitCodeValue,
    options?: ErrorOptions & { status?: number; attempts?: number },
  ) {
    super(message, options);
    this.name = 'OciError';
    this.code = code;
    this.exitCode = exitCode;
    this.status = options?.status;
    this.attempts = options?.attempts ?? 1;
  }
}

/** The most useful line of a network failure (fetch hides the errno in `cause`, undici sets `code`). */
export function causeOf(err: unknown): string {
  if (err instanceof Error) {
    const own = (err as { code?: unknown }).code;
    if (typeof own === 'string' && own !== 'UND_ERR_SOCKET') return `${own} ${err.message}`.trim();
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code;
      return typeof code === 'string' ? `${code} ${cause.message}`.trim() : cause.message;
    }
    return err.message;
  }
  return String(err);
}

/** Node's and OpenSSL's codes of a certificate the client does not trust. */
const certificateCodes =
  /^(?:ERR_TLS_CERT_ALTNAME_INVALID|CERT_\w+|UNABLE_TO_\w+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_SSL_\w*CERTIFICATE\w*)$/;

/** The code of `err` or of the error it wraps (undici wraps the socket's). */
function codeOf(err: unknown): string | undefined {
  for (let e = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('UND_')) return code;
  }
  return undefined;
}

/**
 * OCI_UNREACHABLE for a connection that failed while doing `what`, or OCI_TLS with what to do when
 * TLS itself failed (a plain-HTTP server, an untrusted certificate); an OciError passes as it is.
 */
export function networkError(err: unknown, what: string): OciError {
  if (err instanceof OciError) return err;
  const code = codeOf(err);
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return new OciError(
      OciErrorCode.tls,
      `${what}: the server answered a TLS handshake in plain HTTP (${code}): if the registry speaks plain HTTP, say so (--plain-http, or --plain-http-registry HOST)`,
      OciExitCode.remote,
      { cause: err },
    );
  }
  if (code !== undefined && certificateCodes.test(code)) {
    return new OciError(
      OciErrorCode.tls,
      `${what}: the registry's TLS certificate is not trusted (${code}): give its CA with --ca-file ca.pem (or NODE_EXTRA_CA_CERTS=ca.pem)`,
      OciExitCode.remote,
      { cause: err },
    );
  }
  return new OciError(OciErrorCode.unreachable, `${what}: ${causeOf(err)}`, OciExitCode.remote, { cause: err });
}
