import { type Credentials, credentialsFromAuthFiles, Registry } from '@lumen/oci';

/** How to reach registries: which speak plain HTTP, which credentials to use. */
export interface RegistryAccess {
  /** Hosts (`host:port`) spoken to over plain HTTP. Default none: HTTPS everywhere. */
  plainHttp?: ReadonlySet<string>;
  /** Explicit credentials per host; others come from auth files (REGISTRY_AUTH_FILE, DOCKER_CONFIG, ~/.docker). */
  credentials?: ReadonlyMap<string, Credentials>;
  /** Passed to every client (tests lower retries and chunk sizes). */
  retries?: number;
  retryBaseMs?: number;
  chunkSize?: number;
}

/** One client per registry host for the whole command, so tokens and connections are reused. */
export function registryPool(access: RegistryAccess): (host: string) => Registry {
  const clients = new Map<string, Registry>();
  return (host) => {
    let client = clients.get(host);
    if (!client) {
      const credentials = access.credentials?.get(host) ?? credentialsFromAuthFiles(host);
      client = new Registry({
        host,
        plainHttp: access.plainHttp?.has(host) ?? false,
        ...(credentials ? { credentials } : {}),
        ...(access.retries !== undefined ? { retries: access.retries } : {}),
        ...(access.retryBaseMs !== undefined ? { retryBaseMs: access.retryBaseMs } : {}),
        ...(access.chunkSize !== undefined ? { chunkSize: access.chunkSize } : {}),
      });
      clients.set(host, client);
    }
    return client;
  };
}
