/** How the supply commands reach registries: credentials from the command line, knobs from the environment. */
import type { CarryInventory } from '@lumen/inventory';
import type { Credentials, Registry } from '@lumen/oci';
import { type RegistryAccess, registryPool } from '@lumen/supply';
import { caFileFlag, credentialFlags, inventoryAt, usageError } from './flags.ts';

/** Flags of the commands that push into one registry (bundle push, image push). */
export const registryFlags = {
  registry: { type: 'string' },
  'plain-http': { type: 'boolean' },
  ...caFileFlag,
  ...credentialFlags,
} as const;

/**
 * The registry `--registry H:P` names (with `--plain-http` and the credentials), else the inventory's site registry
 * and its plainHttp; usage error (exit 2) when neither names one or the value is not host[:port].
 */
export function targetRegistry(
  command: string,
  values: { registry?: string; 'plain-http'?: boolean; username?: string; 'password-env'?: string; inventory?: string },
  inventory?: CarryInventory,
): Registry {
  let host = values.registry;
  let plainHttp = values['plain-http'] ?? false;
  if (host === undefined) {
    const inv = inventory ?? inventoryAt(values.inventory, false);
    host = inv.site.registry;
    plainHttp = values['plain-http'] ?? inv.site.plainHttp ?? false;
    if (host === undefined)
      throw usageError(command, "no --registry given, and the inventory's site.yaml names no registry");
  }
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(host)) throw usageError(command, `--registry must be host[:port], got '${host}'`);
  const creds = credentials(command, values.username, values['password-env']);
  return registryPool({
    plainHttp: new Set(plainHttp ? [host] : []),
    ...(creds ? { credentials: new Map([[host, creds]]) } : {}),
    ...tuning(),
  })(host);
}

/** `--username U --password-env VAR` → credentials (the password never appears on the command line). */
export function credentials(
  command: string,
  username: string | undefined,
  passwordEnv: string | undefined,
): Credentials | undefined {
  if (username === undefined && passwordEnv === undefined) return undefined;
  if (username === undefined || passwordEnv === undefined) {
    throw usageError(command, '--username and --password-env go together');
  }
  const password = process.env[passwordEnv];
  if (password === undefined)
    throw usageError(command, `environment variable ${passwordEnv} (--password-env) is not set`);
  return { username, password };
}

/** Test and tuning knobs from the environment (documented in docs/supply-chain.md). */
export function tuning(): Pick<RegistryAccess, 'retries' | 'retryBaseMs' | 'chunkSize'> {
  const n = (name: string) => {
    const v = process.env[name];
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const out: Pick<RegistryAccess, 'retries' | 'retryBaseMs' | 'chunkSize'> = {};
  const retries = n('LUMEN_REGISTRY_RETRIES');
  const base = n('LUMEN_REGISTRY_RETRY_BASE_MS');
  const chunk = n('LUMEN_UPLOAD_CHUNK_BYTES');
  if (retries !== undefined) out.retries = retries;
  if (base !== undefined) out.retryBaseMs = base;
  if (chunk !== undefined && chunk > 0) out.chunkSize = chunk;
  return out;
}
