/**
 * The one errors module of @lumen/check. A failed proof is not an error (it is a list of
 * violations and exit 1); these are the cases where the proof could not even be attempted.
 */

/** Exit codes shared with the lumen CLI (see packages/cli/src/errors.ts). */
const exit = { usage: 2, remote: 3, io: 4, engine: 5, internal: 70 } as const;

/** Stable error codes of @lumen/check. */
export const CheckErrorCode = {
  /** A path given to `lumen check` does not exist or cannot be read. */
  unreadable: 'CHECK_UNREADABLE',
  /** A file is not valid YAML, or a document is not a Kubernetes object. */
  badManifest: 'CHECK_BAD_MANIFEST',
  /** Wrong flags or arguments. */
  usage: 'CHECK_USAGE',
  /** An engine a proof drives (helm, gator, kube-apiserver, etcd) is not installed where lumen looks for it. */
  engineMissing: 'CHECK_ENGINE_MISSING',
  /** An engine ran but failed in a way that is not a verdict (it crashed, or would not start). */
  engineFailed: 'CHECK_ENGINE_FAILED',
  /** The API server of `--kubeconfig` could not be reached or refused lumen's credentials. */
  server: 'CHECK_SERVER',
  /** A chart source (bundle, registry) could not be read or reached. */
  chartSource: 'CHECK_CHART_SOURCE',
} as const;

export type CheckErrorCodeValue = (typeof CheckErrorCode)[keyof typeof CheckErrorCode];

/** An error with a stable code and the CLI exit code it maps to. */
export class CheckError extends Error {
  readonly code: CheckErrorCodeValue;
  readonly exitCode: number;
  constructor(code: CheckErrorCodeValue, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CheckError';
    this.code = code;
    // Unreadable input, bad YAML and usage are all "bad input" for the CLI (exit 2).
    this.exitCode =
      code === CheckErrorCode.engineMissing || code === CheckErrorCode.engineFailed
        ? exit.engine
        : code === CheckErrorCode.chartSource || code === CheckErrorCode.server
          ? exit.remote
          : exit.usage;
  }
}
