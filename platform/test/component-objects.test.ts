/**
 * Per component: every rendered object validates (kubernetes-models schema + lumen's strictness),
 * every image reference is `<inventory registry>/…@sha256:<64 hex>` of an inventory image of that
 * component, no upstream registry is named anywhere, and charts come from the airgap registry.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { chartRef, imageRef, loadInventory } from '@lumen/inventory';
import { problemsOf, type RenderedComponent, render } from '../src/index.ts';
import { fixtureInventory } from './fixture-inventory.ts';

const fixture = fixtureInventory();
after(() => fixture.remove());
const inv = loadInventory(fixture.dir);
const { components, skipped } = render(inv);
const registry = inv.site.registry;
const pinned = new RegExp(`^${registry.replaceAll('.', '\\.')}/[a-z0-9._/-]+:[\\w][\\w.-]{0,127}@sha256:[a-f0-9]{64}$`);
const upstreamHosts = [
  'docker.io',
  'quay.io',
  'ghcr.io',
  'gcr.io',
  'registry.k8s.io',
  'reg.kyverno.io',
  'docker.gitea.com',
];

/** Every string in a JSON value, with its path. */
function strings(value: unknown, path = ''): Array<[string, string]> {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => strings(v, path ? `${path}.${k}` : k));
  return [];
}

/** Container images of pod templates lumen writes itself. */
function podImages(c: RenderedComponent): string[] {
  return c.manifests.flatMap((o) => {
    const spec = (
      o.spec as {
        template?: { spec?: { containers?: Array<{ image: string }>; initContainers?: Array<{ image: string }> } };
      }
    )?.template?.spec;
    return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].map((c) => c.image);
  });
}

describe('every component renders valid objects with pinned airgap images', () => {
  it('renders every component when the inventory is fully pinned (nothing skipped)', () => {
    assert.deepEqual(skipped, []);
    assert.ok(components.length >= 25);
  });

  for (const c of components) {
    describe(c.name, () => {
      it('objects and its Application validate', () => {
        for (const o of [...c.manifests, c.application, ...(c.experiments ?? [])]) assert.deepEqual(problemsOf(o), []);
      });

      it('pulls only inventory images of its own component, each pinned by digest in the airgap registry', () => {
        for (const name of c.images) {
          const img = inv.images.find((i) => i.name === name);
          assert.ok(img, `${name} is not in the inventory`);
          // A chart that carries another component's image must list it (argo-cd carries redis).
          const chartImages = inv.charts.find((ch) => ch.name === c.helm?.chart)?.images ?? [];
          assert.ok(img.component === c.name || chartImages.includes(name), `${name} belongs to ${img.component}`);
          assert.match(imageRef(inv, name), pinned);
        }
        for (const image of podImages(c)) {
          assert.match(image, pinned);
          assert.ok(
            c.images.some((n) => imageRef(inv, n) === image),
            `${image} is not an inventory reference`,
          );
        }
      });

      it('names no upstream registry and pins every airgap reference by digest', () => {
        const all = strings({ values: c.helm?.values ?? {}, manifests: c.manifests });
        for (const [path, s] of all) {
          for (const host of upstreamHosts) assert.ok(!s.startsWith(`${host}/`), `${path} = ${s}`);
          // A full reference to the airgap registry must carry a digest (repositories alone are fine: values split them).
          if (s.startsWith(`${registry}/`) && s.includes(':', registry.length))
            assert.match(s, /@sha256:[a-f0-9]{64}$|\*$/, `${path} = ${s}`);
          if (/^v?\d[\w.-]*@sha256:/.test(s)) assert.match(s, /@sha256:[a-f0-9]{64}$/, `${path} = ${s}`);
        }
        // Values that split registry/repository/tag: the tag carries the digest of an image of this component, or
        // (charts that parse the tag: semverCompare, version labels, suffixes) the chart's own digest key beside it does.
        const byPath = new Map(all);
        for (const [path, s] of all.filter(([p]) => /^values\..*\.(tag|release|digest)$/.test(p))) {
          const sibling = byPath.get(path.replace(/\.(tag|release)$/, '.digest'));
          const digest = path.endsWith('.digest') ? s : (s.split('@')[1] ?? sibling);
          assert.ok(digest && c.images.some((n) => imageRef(inv, n).endsWith(`@${digest}`)), `${path} = ${s}`);
        }
      });

      if (c.helm) {
        it('takes its chart from the airgap registry (OCI) at the inventory version', () => {
          const source = (c.application.spec as { sources: Array<Record<string, unknown>> }).sources[0];
          const ref = chartRef(inv, c.helm?.chart ?? '');
          assert.equal(source?.repoURL, ref.repoURL);
          assert.ok(String(source?.repoURL).startsWith(`${registry}/`));
          assert.equal(source?.chart, ref.chart);
          assert.equal(source?.targetRevision, ref.targetRevision);
        });
      }
    });
  }

  it('Argo CD ignores the random rollme annotation the chaos-mesh chart stamps on its pod templates', () => {
    const app = components.find((c) => c.name === 'chaos-mesh')?.application.spec as {
      ignoreDifferences?: Array<{ kind: string; name: string; jsonPointers: string[] }>;
      syncPolicy: { syncOptions: string[] };
    };
    assert.deepEqual(
      app.ignoreDifferences?.map((d) => `${d.kind}/${d.name}${d.jsonPointers.join(',')}`),
      [
        'Deployment/chaos-controller-manager/spec/template/metadata/annotations/rollme',
        'DaemonSet/chaos-daemon/spec/template/metadata/annotations/rollme',
      ],
    );
    // Without it the sync would still push the new random value.
    assert.ok(app.syncPolicy.syncOptions.includes('RespectIgnoreDifferences=true'));
  });

  it('every inventory image is pulled by some component', () => {
    const used = new Set(components.flatMap((c) => c.images));
    // An artifact (Trivy's database) is read by a job, never run by a pod.
    const unused = inv.images
      .filter((i) => !i.artifact)
      .map((i) => i.name)
      .filter((n) => !used.has(n));
    assert.deepEqual(unused, []);
  });
});
