/**
 * A lumen subcommand. Each family's table lives in `src/commands/` (over the library that does the
 * work); `main.ts` loads only the table of the command being run.
 */
export interface Command {
  /** One line for `lumen --help`. */
  summary: string;
  /** Full usage text for `lumen <command> --help`: synopsis, flags with defaults, exit codes. */
  usage: string;
  /** Runs with the arguments after the command words; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

export type CommandTable = Record<string, Command>;
