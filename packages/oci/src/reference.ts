import { isDigest } from './digest.ts';
import { OciError, OciErrorCode, OciExitCode } from './errors.ts';

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

/**
 * A reference as written, nothing implied: `host` is undefined when the text names no registry,
 * and a one-component Docker Hub name keeps its one component.
 */
export interface ReferenceParts {
  /** Registry host, with port when given (`docker.io`, `192.168.2.2:5000`). */
  host: string | undefined;
  /** Repository path inside the registry (`library/traefik`). */
  path: string;
  /** Tag, without the colon. */
  tag: string | undefined;
  /** Digest `sha256:<hex>`, without the `@`. */
  digest: string | undefined;
}

// The grammar of github.com/distribution/reference (regexp.go): path components are lowercase
// alphanumerics joined by '.', '_', '__' or runs of '-'; a host is DNS labels or a bracketed
// IPv6 address, with an optional port; tags are at most 128 characters.
const pathComponentPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const hostPattern =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/;
/** Tag grammar of the distribution spec. */
export const TAG_PATTERN = /^[\w][\w.-]{0,127}$/;

/** True when `component` (the text before the first '/') names a registry host rather than a path. */
export function looksLikeHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

function invalid(input: string, why: string): OciError {
  return new OciError(OciErrorCode.referenceInvalid, `invalid image reference '${input}': ${why}`, OciExitCode.usage);
}

/**
 * Parses `[host[:port]/]path[:tag][@digest]` as the distribution spec reads it, adding nothing:
 * the first path component is a registry host only when it contains a `.` or a `:` or is
 * `localhost`, so in `192.168.2.2:5000/lumen-api` the `:5000` is a port, never a tag (the mistake
 * that let `host:port` images pass an "untagged" check in the earlier implementation).
 *
 * @throws {OciError} `OCI_REFERENCE_INVALID` (exit 2) when the text is not a reference.
 * @example parseReferenceParts('192.168.2.2:5000/lumen-api') // { host: '192.168.2.2:5000', path: 'lumen-api', tag: undefined, digest: undefined }
 */
export function parseReferenceParts(input: string): ReferenceParts {
  return parseParts(input, input);
}

/** {@link parseReferenceParts} of `text`, naming `input` (what the caller gave) in errors. */
function parseParts(text: string, input: string): ReferenceParts {
  if (text === '' || text.length > 4096 || /\s/.test(text))
    throw invalid(input, 'empty, too long or contains whitespace');
  if (text.includes('://')) throw invalid(input, 'a reference has no scheme');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw invalid(input, `'${digest}' is not a sha256 digest`);
  }
  let host: string | undefined;
  const slash = rest.indexOf('/');
  if (slash >= 0 && looksLikeHost(rest.slice(0, slash))) {
    host = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
    if (!hostPattern.test(host)) throw invalid(input, `'${host}' is not a valid registry host`);
  }
  let tag: string | undefined;
  // The tag is after a ':' of the last path component only: the port went with the host.
  const colon = rest.indexOf(':', rest.lastIndexOf('/') + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_PATTERN.test(tag)) throw invalid(input, `'${tag}' is not a valid tag`);
  }
  if (!rest.split('/').every((c) => pathComponentPattern.test(c))) {
    throw invalid(input, `'${rest}' is not a valid repository path`);
  }
  return { host, path: rest, tag, digest };
}

/**
 * Parses an image reference the way Docker resolves it: {@link parseReferenceParts} of the
 * trimmed text, then a bare name means Docker Hub, and a one-component Docker Hub name gets
 * `library/`.
 *
 * @throws {OciError} `OCI_REFERENCE_INVALID` (exit 2) when the text is not a reference.
 * @example parseReference('127.0.0.1:5000/library/redis:7.4@sha256:…')
 */
export function parseReference(input: string): Reference {
  const parts = parseParts(input.trim(), input);
  const registry = parts.host ?? dockerHub;
  const ref: Reference = {
    registry,
    repository: registry === dockerHub && !parts.path.includes('/') ? `library/${parts.path}` : parts.path,
  };
  if (parts.tag !== undefined) ref.tag = parts.tag;
  if (parts.digest !== undefined) ref.digest = parts.digest;
  return ref;
}

/** `registry/repository[:tag][@digest]`; parts as written give back their text, `[host/]path[:tag][@digest]`. */
export function formatReference(ref: Reference | ReferenceParts): string {
  const [host, path] = 'path' in ref ? [ref.host, ref.path] : [ref.registry, ref.repository];
  return `${host ? `${host}/` : ''}${path}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** OCI tags cannot hold `+`; Helm writes `_` instead (helm.sh/docs/topics/registries). */
export function chartTag(version: string): string {
  return version.replaceAll('+', '_');
}

/**
 * Where a Helm chart is stored as an OCI artifact: `<registry>/<path>/<chart>:<version>`, the
 * version written as a tag by {@link chartTag}. `path` is the repository the charts live under
 * (the site's `chartsPath`, or `bitnamicharts` of `oci://registry-1.docker.io/bitnamicharts`),
 * empty when they live at the top.
 *
 * @example formatReference(chartReference({ registry: '192.168.2.2:5000', path: 'charts', chart: 'metallb', version: '0.15.2+build.7' })) // '192.168.2.2:5000/charts/metallb:0.15.2_build.7'
 */
export function chartReference(chart: { registry: string; path: string; chart: string; version: string }): Reference & {
  tag: string;
} {
  return {
    registry: chart.registry,
    repository: chart.path ? `${chart.path}/${chart.chart}` : chart.chart,
    tag: chartTag(chart.version),
  };
}

/** The host that serves the registry API for `registry` (Docker Hub's API is not on docker.io). */
export function apiHost(registry: string): string {
  return registry === dockerHub || registry === 'index.docker.io' ? dockerHubApi : registry;
}

/** What to ask the registry for: the digest when pinned, else the tag, else `latest`. */
export function manifestReference(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}
