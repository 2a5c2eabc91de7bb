/**
 * Trivy's vulnerability database as the tests build it: tools/trivy-db-fixture writes trivy.db + metadata.json through
 * trivy-db's own packages, and the database is pushed as the OCI artifact ghcr.io/aquasecurity/trivy-db:2 is (one
 * layer of media type application/vnd.aquasec.trivy.db.layer.v1.tar+gzip titled db.tar.gz, config
 * application/vnd.aquasec.trivy.config.v1+json). Also the SBOM `lumen image build --sbom` writes, for a small base.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { type BuildResult, cycloneDx } from '@lumen/image';
import { digestOf, Registry, writeTar } from '@lumen/oci';
import { toolPath } from '@lumen/testkit/tools';

export interface Advisory {
  id: string;
  ecosystem: 'npm' | 'debian 12';
  package: string;
  vulnerable?: string;
  fixed?: string;
  severity: string;
  title: string;
}

export const advisories = (fastifySeverity: string): Advisory[] => [
  {
    id: 'CVE-2026-41001',
    ecosystem: 'npm',
    package: 'fastify',
    vulnerable: '<5.3.3',
    fixed: '5.3.3',
    severity: fastifySeverity,
    title: 'fastify: content-type parsing bypass',
  },
  // No fixed version: Trivy reports it as affected, the gate counts it as unfixable. Filed, as Debian files them,
  // under the source package: the SBOM's libc6 must lead Trivy to glibc.
  { id: 'CVE-2026-41002', ecosystem: 'debian 12', package: 'glibc', severity: 'CRITICAL', title: 'glibc: overflow' },
  {
    id: 'CVE-2026-41003',
    ecosystem: 'debian 12',
    package: 'tzdata',
    fixed: '2026b-0+deb12u1',
    severity: 'MEDIUM',
    title: 'tzdata: stale zone',
  },
  // Not in the SBOM's range: must not be reported at all.
  {
    id: 'CVE-2026-41004',
    ecosystem: 'npm',
    package: 'pino',
    vulnerable: '<9.0.0',
    fixed: '9.0.0',
    severity: 'CRITICAL',
    title: 'pino: old',
  },
];

/** Builds the database with the fixture tool in `work` and pushes it as Trivy's OCI artifact to `host`/`repo`:2. */
export async function pushDatabase(work: string, host: string, repo: string, list: Advisory[]): Promise<string> {
  const dir = join(work, repo.replaceAll('/', '-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'advisories.json'), JSON.stringify({ advisories: list }));
  execFileSync(toolPath('trivy-db-fixture'), [join(dir, 'advisories.json'), join(dir, 'out')]);
  // As the published artifact: trivy.db and metadata.json at the root of db.tar.gz (Trivy unpacks it into <cache>/db).
  const layer = gzipSync(
    writeTar([
      { path: 'trivy.db', type: 'file', mode: 0o644, data: readFileSync(join(dir, 'out', 'trivy.db')) },
      { path: 'metadata.json', type: 'file', mode: 0o644, data: readFileSync(join(dir, 'out', 'metadata.json')) },
    ]),
  );
  const config = Buffer.from('{}');
  const client = new Registry({ host, plainHttp: true });
  for (const blob of [layer, config]) {
    await client.uploadBlob(repo, digestOf(blob), blob.length, (s, e) => Readable.from([blob.subarray(s, e + 1)]));
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.aquasec.trivy.config.v1+json',
      digest: digestOf(config),
      size: config.length,
    },
    layers: [
      {
        mediaType: 'application/vnd.aquasec.trivy.db.layer.v1.tar+gzip',
        digest: digestOf(layer),
        size: layer.length,
        annotations: { 'org.opencontainers.image.title': 'db.tar.gz' },
      },
    ],
  };
  await client.putManifest(
    repo,
    '2',
    Buffer.from(JSON.stringify(manifest)),
    'application/vnd.oci.image.manifest.v1+json',
  );
  return `${host}/${repo}:2`;
}

/** The SBOM `lumen image build --sbom` writes, for a base of two Debian packages and two npm packages. */
export function writeSbom(work: string): string {
  const deb = (name: string, version: string, source: string) => ({ name, version, architecture: 'amd64', source });
  const result = {
    tag: '0.1.0',
    digest: `sha256:${'ab'.repeat(32)}`,
    contents: {
      debs: { 'linux/amd64': [deb('libc6', '2.36-9+deb12u14', 'glibc'), deb('tzdata', '2025b-0+deb12u1', 'tzdata')] },
      node: '24.21.0',
      npm: [
        { name: 'fastify', version: '5.3.0', location: 'node_modules/fastify' },
        { name: 'pino', version: '9.6.0', location: 'node_modules/pino' },
      ],
    },
  } as unknown as BuildResult;
  const file = join(work, 'sbom.cdx.json');
  writeFileSync(file, JSON.stringify(cycloneDx(result, '1970-01-01T00:00:00Z')));
  return file;
}
