import { isDigest } from './digest.ts';
import { OciError, OciErrorCode } from './errors.ts';

/** A parsed image reference: `registry/repository[:tag][@digest]`. */
export interface Reference {
  /** Registry host as written, with port: `docker.io`, `127.0.0.1:5000`, `ghcr.io`. */
  registry: string;
  /** Repository path inside the registry: `library/redis`, `bitnami/charts/redis`. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Docker Hub's well-known name and the host its API actually lives on. */
export const dockerHub = 'docker.io';
const dockerHubApi = 'registry-1.docker.io';

const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const componentPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

function invalid(input: string, why: string): OciError {
  return new OciError(OciErrorCode.referenceInvalid, `invalid image reference '${input}': ${why}`, 2);
}

/**
 * Parses an image reference the way Docker does: the first path component is a registry when
 * it contains a `.` or a `:` or is `localhost`, so `127.0.0.1:5000/app` is registry
 * `127.0.0.1:5000`, never the tag `5000/app` (the mistake that let `host:port` images pass
 * an "untagged" check in the earlier implementation). A bare name means Docker Hub, and a
 * one-component Docker Hub name gets `library/`.
 *
 * @example parseReference('127.0.0.1:5000/library/redis:7.4@sha256:…')
 */
export function parseReference(input: string): Reference {
  let rest = input.trim();
  if (rest === '' || /\s/.test(rest)) throw invalid(input, 'empty or contains whitespace');
  if (rest.includes('://')) throw invalid(input, 'a reference has no scheme');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw invalid(input, `'${digest}' is not a sha256 digest`);
  }
  let registry = dockerHub;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  // The tag is after the last ':' of the last path component only: registry ports are already gone.
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) throw invalid(input, `'${tag}' is not a valid tag`);
  }
  if (registry === dockerHub && !rest.includes('/')) rest = `library/${rest}`;
  if (rest === '' || !rest.split('/').every((c) => componentPattern.test(c))) {
    throw invalid(input, `'${rest}' is not a valid repository path`);
  }
  if (!/^[A-Za-z0-9.-]+(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/.test(registry)) {
    throw invalid(input, `'${registry}' is not a valid registry host`);
  }
  const ref: Reference = { registry, repository: rest };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `registry/repository[:tag][@digest]`. */
export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The host that serves the registry API for `registry` (Docker Hub's API is not on docker.io). */
export function apiHost(registry: string): string {
  return registry === dockerHub || registry === 'index.docker.io' ? dockerHubApi : registry;
}

/** What to ask the registry for: the digest when pinned, else the tag, else `latest`. */
export function manifestReference(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}
