/**
 * What the airgap registry must hold once `lumen bundle push` ran: every inventory image at its pinned digest (at its
 * tag when the lock has none) and every chart at its version, as repository paths of the registry (no host). The
 * verify role checks the registry's catalog and manifests against this list; it is read from the inventory, never
 * written by hand.
 */
import { chartOciRef, type Inventory, imageRef, parseReference } from '@lumen/inventory';

/** One artifact the registry must serve: `GET /v2/<repository>/manifests/<reference>` answers 200. */
export interface RegistryArtifact {
  kind: 'image' | 'chart';
  name: string;
  repository: string;
  /** The image's digest, or the chart's version tag (`+` becomes `_`, as Helm pushes it). */
  reference: string;
}

export function registryContents(inv: Inventory): RegistryArtifact[] {
  const images = inv.images.map((i): RegistryArtifact => {
    // Not locked (Trivy's database, whose tag moves daily, as committed): at the tag `bundle push` writes.
    if (i.digest === undefined) return { kind: 'image', name: i.name, repository: i.airgapPath, reference: i.tag };
    const { path, digest = '' } = parseReference(imageRef(inv, i.name));
    return { kind: 'image', name: i.name, repository: path, reference: digest };
  });
  const charts = inv.charts.map((c): RegistryArtifact => {
    // The same reference `lumen bundle push` pushes the chart to.
    const { path, tag = '' } = parseReference(chartOciRef(inv, c.name));
    return { kind: 'chart', name: c.name, repository: path, reference: tag };
  });
  return [...images, ...charts];
}
