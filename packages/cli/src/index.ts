export type { ExitCodeValue } from './errors.ts';
export { CliError, ExitCode, isCodedError } from './errors.ts';
export type { Command, CommandTable } from './types.ts';
