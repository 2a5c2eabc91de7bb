/**
 * The SBOM `lumen image push` attaches reaches a scanner both ways the delivery contract names: under cosign's tag
 * `sha256-<hex>.sbom` on any registry, and as an OCI referrer of the image index where the registry has the referrers
 * API. go-containerregistry's registry with that API on (tools/referrers-registry) lists it at
 * `GET /v2/<name>/referrers/<digest>`; Debian's Distribution 2.8 has no such API and keeps only the tag.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { runLumen } from '@lumen/testkit/lumen';

const work = mkdtempSync(join(tmpdir(), 'lumen-referrer-'));
const layout = join(work, 'image');
const repository = 'lumen/lumen-api';
const oci = 'application/vnd.oci.image.manifest.v1+json';
let withApi: TestRegistry;
let v2: TestRegistry;
let digest: string;

interface Referrers {
  mediaType: string;
  manifests: Array<{ digest: string; artifactType?: string; mediaType: string }>;
}

async function push(registry: TestRegistry): Promise<{ digest: string; sbom: string }> {
  const r = await runLumen(['image', 'push', layout, '--registry', registry.host, '--plain-http', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { digest: string; sbom: string };
}

before(async () => {
  [withApi, v2] = await Promise.all([startRegistry({ referrers: true }), startRegistry()]);
  // One platform is enough to attach an SBOM; the layer cache makes it a few seconds.
  const built = await runLumen(['image', 'build', '--platform', 'linux/amd64', '--out', layout, '--json']);
  assert.equal(built.code, 0, built.stderr);
  digest = (JSON.parse(built.stdout) as { digest: string }).digest;
});

after(async () => {
  await Promise.allSettled([withApi?.close(), v2?.close()]);
  rmSync(work, { recursive: true, force: true });
});

describe("the image's SBOM: a cosign tag everywhere, an OCI referrer where the registry has the API", () => {
  it('a registry with the referrers API lists the pushed SBOM among the referrers of the image index', async () => {
    const pushed = await push(withApi);
    assert.equal(pushed.digest, digest);
    const res = await fetch(`${withApi.url}/v2/${repository}/referrers/${digest}`);
    assert.equal(res.status, 200);
    const index = (await res.json()) as Referrers;
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(
      index.manifests.map((m) => [m.digest, m.mediaType]),
      [[pushed.sbom, oci]],
    );
    // The listing's artifactType is this registry's reading (it reports config.mediaType, where the spec prefers the
    // manifest's artifactType): the manifest itself says what the artifact is and whose it is.
    const manifest = (await (
      await fetch(`${withApi.url}/v2/${repository}/manifests/${pushed.sbom}`, { headers: { Accept: oci } })
    ).json()) as { artifactType?: string; subject?: { digest: string } };
    assert.equal(manifest.artifactType, 'application/vnd.cyclonedx+json');
    assert.equal(manifest.subject?.digest, digest);
    // The same manifest under cosign's tag scheme.
    const tagged = await fetch(`${withApi.url}/v2/${repository}/manifests/sha256-${digest.slice(7)}.sbom`, {
      method: 'HEAD',
      headers: { Accept: oci },
    });
    assert.equal(tagged.headers.get('docker-content-digest'), pushed.sbom);
  });

  it('Distribution 2.8 has no referrers API: the SBOM is found under its cosign tag alone', async () => {
    const pushed = await push(v2);
    const res = await fetch(`${v2.url}/v2/${repository}/referrers/${digest}`);
    await res.arrayBuffer();
    assert.equal(res.status, 404);
    const tagged = await fetch(`${v2.url}/v2/${repository}/manifests/sha256-${digest.slice(7)}.sbom`, {
      method: 'HEAD',
      headers: { Accept: oci },
    });
    assert.equal(tagged.status, 200);
    assert.equal(tagged.headers.get('docker-content-digest'), pushed.sbom);
  });
});
