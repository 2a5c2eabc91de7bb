/**
 * Image references, parsed the way the distribution spec and containerd read them.
 * The one rule that matters most: the first component is a registry host only when it
 * contains '.' or ':' or is 'localhost' — so in `192.168.2.2:5000/lumen-api` the `:5000`
 * is a port, never a tag (the public implementation's "untagged" check was fooled by that).
 */
import { InventoryError, InventoryErrorCode } from './errors.ts';

/** A parsed image reference. `tag` and `digest` are undefined when absent. */
export interface ImageReference {
  /** Registry host, with port when given (`docker.io`, `192.168.2.2:5000`). Undefined when the reference has none. */
  host: string | undefined;
  /** Repository path inside the registry (`library/traefik`). */
  path: string;
  /** Tag, without the colon. */
  tag: string | undefined;
  /** Digest `algorithm:hex`, without the `@`. */
  digest: string | undefined;
}

// Grammar from github.com/distribution/reference (reference.go): path components are
// lowercase alphanumerics joined by '.', '_', '__' or runs of '-'; tags are at most 128 chars.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const HOST =
  /^(?:localhost|(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/;
/** Tag grammar of the distribution spec. */
export const TAG_PATTERN = /^[\w][\w.-]{0,127}$/;
/** A sha256 digest, the only algorithm registries use in practice. */
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

/** True when `component` (the text before the first '/') names a registry host rather than a path. */
export function looksLikeHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

/**
 * Parses `[host[:port]/]path[:tag][@digest]`. Does not add defaults (no implicit `docker.io`
 * or `latest`): callers that need a fully qualified reference check `host` themselves.
 *
 * @throws {InventoryError} `INVENTORY_BAD_REFERENCE` when the text is not a reference.
 * @example parseReference('192.168.2.2:5000/lumen-api') // { host: '192.168.2.2:5000', path: 'lumen-api', tag: undefined, digest: undefined }
 */
export function parseReference(text: string): ImageReference {
  const bad = (why: string) =>
    new InventoryError(InventoryErrorCode.badReference, `'${text}' is not an image reference: ${why}`);
  if (text.length === 0 || text.length > 4096 || /\s/.test(text)) throw bad('empty, too long or contains whitespace');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_PATTERN.test(digest)) throw bad(`digest '${digest}' is not sha256:<64 hex>`);
  }
  let host: string | undefined;
  const slash = rest.indexOf('/');
  if (slash >= 0 && looksLikeHost(rest.slice(0, slash))) {
    host = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
    if (!HOST.test(host)) throw bad(`registry host '${host}' is malformed`);
  }
  let tag: string | undefined;
  // After the host is removed, a colon can only introduce the tag.
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_PATTERN.test(tag)) throw bad(`tag '${tag}' is malformed`);
  }
  const components = rest.split('/');
  if (components.some((c) => !PATH_COMPONENT.test(c))) throw bad(`repository path '${rest}' is malformed`);
  return { host, path: rest, tag, digest };
}

/** Formats a reference back to text: `host/path:tag@digest`, leaving out what is undefined. */
export function formatReference(ref: ImageReference): string {
  return `${ref.host ? `${ref.host}/` : ''}${ref.path}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
