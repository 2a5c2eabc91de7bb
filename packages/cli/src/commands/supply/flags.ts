/**
 * Flags of the supply commands: `node:util` parseArgs in strict mode, with its errors turned into
 * one-line usage errors (exit 2) that name the command; the flags several commands share and what
 * `--inventory` and `--json` do; the exit codes every usage text ends with.
 */
import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type CarryInventory, loadInventory } from '@lumen/inventory';
import { trustCertificates } from '@lumen/oci';
import { SupplyError, SupplyErrorCode } from '@lumen/supply';

type Options = NonNullable<ParseArgsConfig['options']>;

export const exitCodes = `Exit codes: 0 ok, 1 a proof failed (digest, signature, lock mismatch), 2 bad usage or input,
3 registry or download failure, 4 local I/O failure.`;

export const inventoryFlag = { inventory: { type: 'string' } } as const;
export const jsonFlag = { json: { type: 'boolean', default: false } } as const;
export const plainHttpRegistryFlag = { 'plain-http-registry': { type: 'string', multiple: true } } as const;
export const credentialFlags = { username: { type: 'string' }, 'password-env': { type: 'string' } } as const;
/** `--ca-file FILE` (repeatable): CA certificates (PEM) to trust for HTTPS, a site's private CA. */
export const caFileFlag = { 'ca-file': { type: 'string', multiple: true } } as const;
/** Its line in the usage texts. */
export const caFileUsage =
  '  --ca-file FILE    trust this CA certificate (PEM) for HTTPS too (repeatable; a private CA)';
/** Flags of the commands that read from the inventory's upstream registries (inventory lock, bundle create). */
export const upstreamFlags = {
  ...caFileFlag,
  ...inventoryFlag,
  ...jsonFlag,
  ...plainHttpRegistryFlag,
  concurrency: { type: 'string' },
} as const;

/** Parses the flags; a command that takes `--ca-file` trusts the CAs it names before anything connects. */
export function parseFlags<O extends Options>(command: string, args: string[], options: O, positionals = true) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true }>>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: positionals, strict: true });
  } catch (err) {
    throw new SupplyError(
      SupplyErrorCode.usage,
      `${command}: ${(err as Error).message} (see 'lumen ${command} --help')`,
    );
  }
  const caFiles = (parsed.values as { 'ca-file'?: string[] })['ca-file'];
  if (caFiles !== undefined) trustCertificates(caFiles.map((file) => readCa(command, file)));
  return parsed;
}

/** A CA file's PEM text; one that cannot be read or holds no certificate is bad input (exit 2). */
function readCa(command: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw usageError(
      command,
      `--ca-file ${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw usageError(command, `--ca-file ${file}: no PEM certificate in it`);
  return text;
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

/** The inventory `--inventory DIR` names (default: the repository's `inventory/`), as the supply chain reads it. */
export function inventoryAt(dir: string | undefined, requireLock: boolean): CarryInventory {
  return loadInventory(dir, { requireLock, carry: true });
}

/** What `--json` prints: one JSON document on stdout (progress and messages go to stderr). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
