import { type ParseArgsConfig, parseArgs } from 'node:util';
import { SupplyError, SupplyErrorCode } from './errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `node:util` parseArgs in strict mode, with its errors turned into one-line usage errors
 * (exit 2) that name the command.
 */
export function parseFlags<O extends Options>(command: string, args: string[], options: O, positionals = true) {
  try {
    return parseArgs({ args, options, allowPositionals: positionals, strict: true });
  } catch (err) {
    throw new SupplyError(
      SupplyErrorCode.usage,
      `${command}: ${(err as Error).message} (see 'lumen ${command} --help')`,
    );
  }
}

/** A positive integer flag value, or the default. */
export function intFlag(command: string, name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new SupplyError(SupplyErrorCode.usage, `${command}: --${name} must be a positive integer, got '${value}'`);
  }
  return n;
}

export function usageError(command: string, message: string): SupplyError {
  return new SupplyError(SupplyErrorCode.usage, `${command}: ${message} (see 'lumen ${command} --help')`);
}
