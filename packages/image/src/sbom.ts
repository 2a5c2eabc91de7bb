/**
 * The image's software bill of materials, CycloneDX 1.6 JSON: the Debian packages of each platform's base, Node.js,
 * and every npm package of the node_modules layer (from package-lock.json), each with its package URL. Attached to
 * the image as an OCI artifact whose `subject` is the image index: pushed under cosign's `sha256-<hex>.sbom` tag, and
 * a referrer of the index where the registry has the referrers API. Deterministic like the image: the serial number
 * is derived from the index digest, the timestamp is the image's.
 */
import type { BuildResult } from './build.ts';

export const sbomMediaType = 'application/vnd.cyclonedx+json';

/** purl of an npm package (`@scope/name` → `%40scope/name`). */
const npmPurl = (name: string, version: string) => `pkg:npm/${name.replace(/^@/, '%40')}@${version}`;

/** The Debian release of the base; a scanner picks its advisories (Trivy's `debian 12`) by it. */
const debianRelease = '12';

const debPurl = (d: { name: string; version: string; architecture: string }) =>
  `pkg:deb/debian/${d.name}@${encodeURIComponent(d.version)}?arch=${d.architecture}&distro=debian-${debianRelease}`;

/** A UUID (version 5 layout) from the index digest, so two builds write the same document. */
function serialOf(digest: string): string {
  const h = digest.slice(7, 39);
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function cycloneDx(result: BuildResult, created: string): Record<string, unknown> {
  const components = new Map<string, Record<string, unknown>>();
  // The operating system as its own component: without it Trivy does not know which release's advisories apply
  // to the Debian packages and skips them ("OS is not detected").
  const os = `debian@${debianRelease}`;
  components.set(os, { type: 'operating-system', 'bom-ref': os, name: 'debian', version: debianRelease });
  for (const [platform, debs] of Object.entries(result.contents.debs)) {
    for (const d of debs) {
      const purl = debPurl(d);
      const existing = components.get(purl);
      if (existing) continue;
      components.set(purl, {
        type: 'library',
        'bom-ref': purl,
        name: d.name,
        version: d.version,
        purl,
        properties: [
          { name: 'lumen:layer', value: 'base' },
          { name: 'lumen:platform', value: d.architecture === 'all' ? 'all' : platform },
          // Debian's advisories are filed under the source package (libc6's under glibc); Trivy reads it from its
          // own property, and otherwise would look under the binary package's name and miss them.
          ...(d.source && d.source !== d.name
            ? [
                { name: 'debian:source', value: d.source },
                { name: 'aquasecurity:trivy:SrcName', value: d.source },
              ]
            : []),
        ],
      });
    }
  }
  const node = `pkg:generic/node@${result.contents.node}`;
  components.set(node, {
    type: 'application',
    'bom-ref': node,
    name: 'node',
    version: result.contents.node,
    purl: node,
    properties: [{ name: 'lumen:layer', value: 'base' }],
  });
  for (const p of result.contents.npm) {
    const purl = npmPurl(p.name, p.version);
    if (components.has(purl)) continue;
    components.set(purl, {
      type: 'library',
      'bom-ref': purl,
      name: p.name,
      version: p.version,
      purl,
      properties: [{ name: 'lumen:layer', value: 'node_modules' }],
    });
  }
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: serialOf(result.digest),
    version: 1,
    metadata: {
      timestamp: created,
      tools: { components: [{ type: 'application', name: 'lumen', description: 'lumen image build' }] },
      component: {
        type: 'container',
        'bom-ref': `lumen-api@${result.digest}`,
        name: 'lumen-api',
        version: result.tag,
        hashes: [{ alg: 'SHA-256', content: result.digest.slice(7) }],
      },
    },
    components: [...components.values()].sort((a, b) => String(a['bom-ref']).localeCompare(String(b['bom-ref']))),
  };
}
