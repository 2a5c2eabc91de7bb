/**
 * What a component module gets to build its objects: the inventory, the site, and pinned
 * references to images and charts in the airgap registry. Every image a component asks for is
 * recorded, so the renderer knows exactly which inventory images each component pulls.
 */
import { chartRef, type Inventory, imageRef, parseReference } from '@lumen/inventory';

/** Where Argo CD fetches a chart: the airgap registry's OCI chart repository. */
export interface ChartSource {
  repoURL: string;
  chart: string;
  targetRevision: string;
}

/** A pinned image reference split the ways Helm charts ask for it. */
export interface ImageParts {
  /** `192.168.2.2:5000/library/traefik:v3.3.2@sha256:…` */
  ref: string;
  /** `192.168.2.2:5000` */
  registry: string;
  /** `library/traefik` (path in the airgap registry, no host) */
  repository: string;
  /** `192.168.2.2:5000/library/traefik` */
  repositoryWithRegistry: string;
  /** `v3.3.2` */
  tag: string;
  /** `sha256:…` */
  digest: string;
  /** `v3.3.2@sha256:…`: for charts that only template `repository:tag`, this still pins the digest. */
  tagAtDigest: string;
}

export interface Context {
  readonly inv: Inventory;
  /** Site settings from inventory/site.yaml. */
  readonly site: Inventory['site'];
  /** Pinned airgap reference of an inventory image (`imageRef`); records the use. */
  image(name: string): string;
  /** The same reference split into registry, repository, tag and digest. */
  imageParts(name: string): ImageParts;
  /** Argo CD source of an inventory chart. */
  chart(name: string): ChartSource;
  /** `<sub>.<site domain>`. */
  host(sub: string): string;
  /** PEM of the cosign public key lumen-api images are signed with; throws {@link MissingCosignKey} when the site has none. */
  readonly cosignPublicKey: string;
  /** Image names requested so far (the renderer resets it per component). */
  readonly used: Set<string>;
}

/** The site has not put its cosign public key into the inventory directory yet. */
export class MissingCosignKey extends Error {
  constructor(path: string) {
    super(`no cosign public key at ${path} (copy the cosign.pub written by 'lumen keygen' there)`);
    this.name = 'MissingCosignKey';
  }
}

/** Builds the context for one render. */
export function createContext(inv: Inventory, cosignPublicKey: string | undefined): Context {
  const used = new Set<string>();
  const image = (name: string): string => {
    const ref = imageRef(inv, name);
    used.add(name);
    return ref;
  };
  return {
    inv,
    site: inv.site,
    used,
    get cosignPublicKey(): string {
      if (cosignPublicKey === undefined) throw new MissingCosignKey(`${inv.dir}/cosign.pub`);
      return cosignPublicKey;
    },
    image,
    imageParts(name) {
      const ref = image(name);
      // imageRef writes every part: `<site registry>/<airgap path>:<tag>@<digest>`.
      const { host: registry = '', path: repository, tag = '', digest = '' } = parseReference(ref);
      return {
        ref,
        registry,
        repository,
        repositoryWithRegistry: `${registry}/${repository}`,
        tag,
        digest,
        tagAtDigest: `${tag}@${digest}`,
      };
    },
    chart(name) {
      const c = chartRef(inv, name);
      return { repoURL: c.repoURL, chart: c.chart, targetRevision: c.targetRevision };
    },
    host: (sub) => `${sub}.${inv.site.domain}`,
  };
}
