/** How the supply commands reach registries: credentials from the command line, knobs from the environment. */
import type { Credentials } from '@lumen/oci';
import type { RegistryAccess } from '@lumen/supply';
import { usageError } from './flags.ts';

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
