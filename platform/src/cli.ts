import type { CommandTable } from '@lumen/cli';

/** This package's lumen subcommands (see packages/cli/src/main.ts for the owner table). */
export const commands: CommandTable = {};
