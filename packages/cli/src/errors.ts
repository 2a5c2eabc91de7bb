/**
 * Exit codes of the lumen CLI. Every command documents which it uses; scripts may rely on them.
 */
export const ExitCode = {
  /** Everything asked for was done, every proof held. */
  ok: 0,
  /** A proof failed: check violations, a digest or signature that does not verify. */
  failed: 1,
  /** Bad usage or bad input: unknown command or flag, an invalid inventory or manifest. */
  usage: 2,
  /** A remote party failed: registry unreachable, refused credentials, unexpected answers. */
  remote: 3,
  /** Local I/O failed: disk full, permission denied, a bundle that cannot be read. */
  io: 4,
  /** A bug in lumen itself (an error without a code): please report it with the stack trace. */
  internal: 70,
  /** Interrupted by SIGINT/SIGTERM; resumable work can be run again. */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The one error shape the CLI edge understands. Packages throw their own subclasses
 * (or any Error with a string `code` and a numeric `exitCode`); main.ts prints
 * `lumen: <message>` and exits with `exitCode`.
 */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, exitCode: number = ExitCode.usage, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** True when `err` carries a stable code and an exit code, whatever package threw it. */
export function isCodedError(err: unknown): err is Error & { code: string; exitCode: number } {
  return (
    err instanceof Error &&
    typeof (err as { code?: unknown }).code === 'string' &&
    typeof (err as { exitCode?: unknown }).exitCode === 'number'
  );
}
