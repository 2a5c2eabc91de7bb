/**
 * The one error type of the harness; `code` is stable: HARNESS_SPAWN, HARNESS_EXITED, HARNESS_TIMEOUT, HARNESS_MISSING,
 * HARNESS_USAGE, HARNESS_UNAVAILABLE.
 */
export class HarnessError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HarnessError';
    this.code = code;
  }
}
