/**
 * A lumen subcommand. Packages export a `commands` record of these from their `cli.ts`;
 * the CLI loads only the package that owns the command being run.
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
