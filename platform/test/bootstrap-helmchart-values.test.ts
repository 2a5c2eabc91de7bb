/**
 * `lumen bootstrap helmchart` installs exactly what Argo CD later syncs: for every chart the bootstrap roles
 * install, the HelmChart's chart, version, repository (the airgap registry) and values equal the rendered
 * Application in deploy/apps/ (the committed render, read back as YAML — not the object the HelmChart was built
 * from). A component without a chart, an unknown one and a missing flag are refused with exit 2 and one line.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadInventory } from '@lumen/inventory';
import { runLumenSync } from '@lumen/testkit/lumen';
import { parse, parseAllDocuments } from 'yaml';
import { bootstrapDns, bootstrapHelmChart, PlatformError, registryContents } from '../src/index.ts';
import { repoRoot } from './fixture-inventory.ts';

const inv = loadInventory(join(repoRoot, 'inventory'));
const lumen = (args: string[]) => runLumenSync(args, { cwd: repoRoot });

interface HelmChartSpec {
  chart: string;
  version: string;
  targetNamespace: string;
  plainHTTP?: boolean;
  valuesContent: string;
}

function renderedChartSource(component: string) {
  const app = parse(readFileSync(join(repoRoot, 'deploy', 'apps', `${component}.yaml`), 'utf8'));
  const source = app.spec.sources.find((s: { chart?: string }) => s.chart !== undefined);
  assert.ok(source, `deploy/apps/${component}.yaml has a chart source`);
  return { source, namespace: app.spec.destination.namespace as string };
}

// The charts the bootstrap roles install before Argo CD runs (metallb, opa = gatekeeper, argocd, gitea, vault).
const bootstrapped = ['metallb', 'gatekeeper', 'argocd', 'gitea', 'vault'];

describe('the bootstrap HelmChart equals the rendered Application', () => {
  for (const component of bootstrapped) {
    it(`${component}: chart, version, airgap repository, release and values`, () => {
      const { source, namespace } = renderedChartSource(component);
      const { object, path } = bootstrapHelmChart(inv, component);
      const spec = object.spec as HelmChartSpec;
      assert.equal(object.apiVersion, 'helm.cattle.io/v1');
      assert.equal(object.kind, 'HelmChart');
      assert.equal(object.metadata.name, source.helm.releaseName);
      assert.equal(spec.chart, `oci://${inv.site.registry}/${inv.site.chartsPath}/${source.chart}`);
      assert.equal(`oci://${source.repoURL}/${source.chart}`, spec.chart);
      assert.equal(spec.version, source.targetRevision);
      assert.equal(spec.targetNamespace, namespace);
      assert.equal(spec.plainHTTP, inv.site.plainHttp ? true : undefined);
      assert.deepEqual(parse(spec.valuesContent), source.helm.valuesObject);
      assert.equal(path, `/var/lib/rancher/k3s/server/manifests/lumen-${component}.yaml`);
    });
  }

  it('the CLI prints the same HelmChart as one YAML document', () => {
    const r = lumen(['bootstrap', 'helmchart', '--component', 'metallb']);
    assert.equal(r.status, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout);
    assert.equal(docs.length, 1);
    const printed = docs[0]?.toJS() as { spec: HelmChartSpec };
    assert.deepEqual(printed, bootstrapHelmChart(inv, 'metallb').object);
    const values = parse(printed.spec.valuesContent);
    assert.deepEqual(values, renderedChartSource('metallb').source.helm.valuesObject);
  });
});

describe('bad input', () => {
  it('a component without a chart: exit 2, one line', () => {
    assert.throws(() => bootstrapHelmChart(inv, 'metallb-config'), PlatformError);
    const r = lumen(['bootstrap', 'helmchart', '--component', 'metallb-config']);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^lumen: component 'metallb-config' installs no chart[^\n]*\n$/);
  });

  it('an unknown component, a missing --component and an unknown flag: exit 2, one line', () => {
    for (const [args, message] of [
      [['bootstrap', 'helmchart', '--component', 'nope'], /unknown component 'nope' \(one of .*metallb/],
      [['bootstrap', 'helmchart'], /needs --component NAME/],
      [['bootstrap', 'helmchart', '--component', 'metallb', '--bogus'], /bogus/],
    ] as const) {
      const r = lumen([...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});

describe('lumen bootstrap dns', () => {
  it("rewrites every name under the site domain to the Traefik Service, from site.yaml's domain", () => {
    const { object } = bootstrapDns(inv);
    const rule = (object.data as Record<string, string>)['lumen-site.override'] ?? '';
    assert.match(rule, /name regex \(\.\+\\\.\)\?airgap\\\.local\\\.\$ traefik\.traefik\.svc\.cluster\.local\./);
    assert.match(rule, /answer auto/);
    const r = lumen(['bootstrap', 'dns']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(parse(r.stdout), object);
  });
});

describe('lumen bootstrap registry-contents', () => {
  it('lists every inventory image at its locked digest and every chart at its version, as the CLI prints them', () => {
    const contents = registryContents(inv);
    assert.equal(contents.length, inv.images.length + inv.charts.length);
    for (const image of inv.images) {
      const entry = contents.find((c) => c.kind === 'image' && c.name === image.name);
      // Locked: by digest; the one image the committed lock leaves out (Trivy's database) at its tag.
      assert.equal(entry?.reference, inv.lock.images[image.name]?.digest ?? image.tag, image.name);
      assert.doesNotMatch(entry?.repository ?? '', /^\d|:|@/, 'a registry path, no host, tag or digest');
    }
    for (const chart of inv.charts) {
      const entry = contents.find((c) => c.kind === 'chart' && c.name === chart.name);
      assert.equal(entry?.repository, `${inv.site.chartsPath}/${chart.chart}`);
      assert.equal(entry?.reference, chart.version.replaceAll('+', '_'));
    }
    const r = lumen(['bootstrap', 'registry-contents']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), contents);
  });
});
