/**
 * The chart stage with the real helm (from the tool cache `scripts/tools.sh` fills): small charts
 * written here, each reproducing one way a real chart fails with values written blind, rendered
 * exactly as Argo CD renders them into the fixture platform; `lumen check --charts` must reject
 * each naming the chart, the object and the reason, and pass the good chart. The charts stand for
 * the traefik component of the fixture platform (namespace traefik, Pod Security baseline).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { digestOf, MediaType, Registry } from '@lumen/oci';
import { chartArtifact } from '@lumen/supply';
import { startRegistry } from '@lumen/testkit';
import { type KubeApiserver, startKubeApiserver } from '@lumen/testkit/kube-apiserver';
import { runLumenSync } from '@lumen/testkit/lumen';
import { stringify } from 'yaml';
import { runCheck } from '../src/check.ts';
import { findEngine } from '../src/engines.ts';
import { formatViolation } from '../src/report.ts';
import type { InventoryView, Violation } from '../src/types.ts';
import { inventory as fixtureInventory, fixtureOptions, makeFixturePlatform, matrix } from './fixture-platform.ts';

const registry = '192.168.2.2:5000';
const traefikDigest = `sha256:${'d'.repeat(64)}`;
const hookDigest = `sha256:${'e'.repeat(64)}`;

const inventory: InventoryView = {
  ...fixtureInventory,
  site: {
    registry,
    nodes: [
      { name: 'node-1', role: 'server' },
      { name: 'node-2', role: 'agent' },
    ],
  },
  images: [
    ...fixtureInventory.images,
    { name: 'traefik', source: 'docker.io/library/traefik', tag: 'v3.6.0', digest: traefikDigest },
  ],
  charts: [{ chart: 'demo', version: '1.0.0' }],
  files: [{ name: 'k3s-amd64', version: 'v1.36.4+k3s1' }],
};

/** The fixture matrix plus Prometheus scraping Traefik's metrics port (9100). */
const chartMatrix = {
  ...matrix,
  allow: [...matrix.allow, { from: 'monitoring/prometheus', to: 'traefik/traefik', port: 9100 }],
};

/** One side of a flow as lumen renders it: the policy in `ns` selecting `self`, allowing `peer` in `peerNs` on 9100. */
function sidePolicy(
  name: string,
  ns: string,
  self: string,
  direction: 'Egress' | 'Ingress',
  peerNs: string,
  peer: string,
) {
  const peers = [
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': peerNs } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': peer } },
    },
  ];
  const rule =
    direction === 'Egress' ? { to: peers, ports: [{ port: 9100 }] } : { from: peers, ports: [{ port: 9100 }] };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns },
    spec: {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': self } },
      policyTypes: [direction],
      [direction === 'Egress' ? 'egress' : 'ingress']: [rule],
    },
  };
}

/** NetworkPolicies for that flow, as lumen renders them for a chart component. */
const metricsPolicies = [
  sidePolicy('prometheus-scrapes-traefik', 'monitoring', 'prometheus', 'Egress', 'traefik', 'traefik'),
  sidePolicy('traefik-metrics-from-prometheus', 'traefik', 'traefik', 'Ingress', 'monitoring', 'prometheus'),
];

/** The good chart's Deployment template; the cases below change one thing each. */
const deployment = (
  o: { labels?: string; image?: string; extra?: string; replicas?: string; affinity?: string } = {},
) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/name: traefik
${o.labels ?? ''}
spec:
  replicas: ${o.replicas ?? '{{ .Values.replicas }}'}
  selector:
    matchLabels:
      app.kubernetes.io/name: traefik
  template:
    metadata:
      labels:
        app.kubernetes.io/name: traefik
${o.labels ?? ''}
    spec:
${o.affinity ?? ''}
      containers:
        - name: traefik
          image: ${o.image ?? '"{{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}"'}
          ports:
            - { name: web, containerPort: 8000 }
            - { name: metrics, containerPort: {{ .Values.metricsPort }} }
          resources:
            requests: { cpu: 100m, memory: 64Mi }
            limits: { cpu: 500m, memory: 256Mi }
${o.extra ?? ''}
`;

const service = `apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    app.kubernetes.io/name: traefik
  ports:
    - { name: web, port: 80, targetPort: web }
`;

const goodValues = {
  replicas: 1,
  metricsPort: 9100,
  image: { registry, repository: 'library/traefik', tag: `v3.6.0@${traefikDigest}` },
};

interface Case {
  /** Template files besides Chart.yaml. */
  templates: Record<string, string>;
  /** values.schema.json of the chart, when it has one. */
  schema?: object;
  /** Values the Application gives (default: goodValues). */
  values?: object;
  /** Chart version the Application pins (default 1.0.0, the one written). */
  pin?: string;
}

let helm: string;
const scratch = mkdtempSync(join(tmpdir(), 'lumen-chart-stage-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
before(() => {
  helm = findEngine('helm');
});

let counter = 0;
/** Writes the fixture platform plus the chart and its Application; returns the root and the charts dir. */
function scenario(c: Case): { root: string; charts: string; cleanup: () => void } {
  const platform = makeFixturePlatform();
  const charts = join(scratch, `charts-${counter++}`);
  const chart = join(charts, 'demo');
  mkdirSync(join(chart, 'templates'), { recursive: true });
  writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: demo\nversion: 1.0.0\nappVersion: v3.6.0\n');
  writeFileSync(join(chart, 'values.yaml'), stringify(goodValues));
  if (c.schema) writeFileSync(join(chart, 'values.schema.json'), JSON.stringify(c.schema));
  for (const [name, text] of Object.entries(c.templates)) writeFileSync(join(chart, 'templates', name), text);
  const apps = join(platform.dir, 'deploy', 'apps');
  mkdirSync(apps, { recursive: true });
  const app = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: 'traefik',
      namespace: 'argocd',
      labels: { 'lumen.dev/component': 'traefik' },
      annotations: { 'argocd.argoproj.io/sync-wave': '1' },
    },
    spec: {
      project: 'default',
      destination: { server: 'https://kubernetes.default.svc', namespace: 'traefik' },
      sources: [
        {
          chart: 'demo',
          repoURL: `${registry}/charts`,
          targetRevision: c.pin ?? '1.0.0',
          helm: { releaseName: 'traefik', valuesObject: c.values ?? goodValues },
        },
      ],
    },
  };
  writeFileSync(join(apps, 'traefik.yaml'), stringify(app));
  writeFileSync(
    join(platform.dir, 'deploy', 'traefik', 'metrics.yaml'),
    metricsPolicies.map((p) => stringify(p)).join('---\n'),
  );
  return { root: platform.dir, charts, cleanup: platform.cleanup };
}

async function check(c: Case): Promise<Violation[]> {
  const s = scenario(c);
  try {
    const result = await runCheck({
      ...fixtureOptions(s.root),
      inventory,
      matrix: chartMatrix,
      charts: { kind: 'dir', dir: s.charts },
    });
    return result.violations;
  } finally {
    s.cleanup();
  }
}

/** Exactly one violation of `rule` on the chart object `object` (`Kind/namespace/name`), its reason matching. */
function rejects(
  violations: Violation[],
  rule: string,
  object: string,
  reason: RegExp,
  file = /^chart:demo@1\.0\.0\//,
) {
  const lines = violations.map(formatViolation).join('\n');
  const hits = violations.filter(
    (v) => v.rule === rule && `${v.kind}/${v.namespace}/${v.name}` === object && reason.test(v.reason),
  );
  assert.equal(hits.length, 1, `expected one ${rule} on ${object} matching ${reason}, got:\n${lines}`);
  assert.match((hits[0] as Violation).file, file, lines);
}

describe('lumen check --charts renders with the real helm', () => {
  test('the helm used is the pinned one from the tool cache', () => {
    const r = spawnSync(helm, ['version', '--short'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^v3\.21\.4\b/);
  });

  test('a good chart: every proof holds on what it renders, and the hand-declared traefik is replaced', async () => {
    const s = scenario({ templates: { 'deployment.yaml': deployment(), 'service.yaml': service } });
    try {
      const result = await runCheck({
        ...fixtureOptions(s.root),
        inventory,
        matrix: chartMatrix,
        charts: { kind: 'dir', dir: s.charts },
      });
      assert.deepEqual(result.violations.map(formatViolation), []);
      assert.deepEqual(
        result.charts?.rendered.map((c) => [c.component, c.chart, c.version, c.objects, c.images]),
        [['traefik', 'demo', '1.0.0', 2, [`${registry}/library/traefik:v3.6.0@${traefikDigest}`]]],
      );
      assert.ok(!result.described.includes('traefik'), 'the rendered chart replaces the description');
      assert.match(result.charts?.helm ?? '', /^v3\.21\.4/);
    } finally {
      s.cleanup();
    }
  });

  test('the same platform without --charts falls back on the description and says which it used', async () => {
    const s = scenario({ templates: { 'deployment.yaml': deployment() } });
    try {
      const result = await runCheck({ ...fixtureOptions(s.root), inventory, matrix: chartMatrix });
      assert.equal(result.charts, undefined);
      assert.ok(result.described.includes('traefik'));
    } finally {
      s.cleanup();
    }
  });

  test('semverCompare on an image tag that holds a digest aborts the render', async () => {
    const guarded = `{{- if semverCompare ">=3.0.0" .Values.image.tag }}\n${deployment()}{{- end }}\n`;
    const violations = await check({ templates: { 'deployment.yaml': guarded } });
    rejects(
      violations,
      'chart',
      'Application/argocd/traefik',
      /^helm template demo 1\.0\.0 failed: .*error calling semverCompare: invalid semantic version/,
      /deploy\/apps\/traefik\.yaml$/,
    );
  });

  test('a version label built from the tag is not a valid label value', async () => {
    const labels = '    app.kubernetes.io/version: {{ .Values.image.tag | quote }}';
    const violations = await check({ templates: { 'deployment.yaml': deployment({ labels }) } });
    rejects(
      violations,
      'schema',
      'Deployment/traefik/traefik',
      /^metadata\.labels\[app\.kubernetes\.io\/version\] value "v3\.6\.0@sha256:d+" is longer than 63 characters and holds more than alphanumerics/,
    );
  });

  test('a suffix appended after the tag lands after the digest', async () => {
    const image = '"{{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}-rootless"';
    const violations = await check({ templates: { 'deployment.yaml': deployment({ image }) } });
    rejects(
      violations,
      'schema',
      'Deployment/traefik/traefik',
      /^containers\[traefik\] image .* has text after its digest \(-rootless\)/,
    );
  });

  test("values the chart's values.schema.json refuses fail the render", async () => {
    const schema = {
      type: 'object',
      additionalProperties: false,
      properties: { replicas: { type: 'integer' }, metricsPort: { type: 'integer' }, image: { type: 'object' } },
    };
    const violations = await check({
      templates: { 'deployment.yaml': deployment() },
      schema,
      values: { ...goodValues, podLabels: { tier: 'edge' } },
    });
    rejects(
      violations,
      'chart',
      'Application/argocd/traefik',
      /failed: .*values don't meet the specifications of the schema.*podLabels/,
      /deploy\/apps\/traefik\.yaml$/,
    );
  });

  test('an unconditional sidecar brings an image the inventory does not carry', async () => {
    const extra = `        - name: log-shipper
          image: ${registry}/library/busybox:1.36@sha256:${'f'.repeat(64)}
          resources:
            requests: { cpu: 10m, memory: 16Mi }
            limits: { cpu: 50m, memory: 32Mi }`;
    const violations = await check({ templates: { 'deployment.yaml': deployment({ extra }) } });
    rejects(
      violations,
      'image-pinned',
      'Deployment/traefik/traefik',
      /^containers\[log-shipper\] image .*busybox.* is not in the inventory/,
    );
  });

  test('a hook Job that Argo CD runs needs its image carried; a test hook Argo CD skips does not count', async () => {
    const job = (name: string, hook: string, image: string) => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
  annotations:
    helm.sh/hook: ${hook}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: kubectl
          image: ${image}
          resources:
            requests: { cpu: 10m, memory: 16Mi }
            limits: { cpu: 50m, memory: 32Mi }
`;
    const violations = await check({
      templates: {
        'deployment.yaml': deployment(),
        'hook.yaml': job(
          'traefik-crd-upgrade',
          'pre-upgrade,pre-install',
          `${registry}/bitnami/kubectl:1.30@${hookDigest}`,
        ),
        'test.yaml': job('traefik-test', 'test', 'docker.io/library/busybox:latest'),
      },
    });
    rejects(
      violations,
      'image-pinned',
      'Job/traefik/traefik-crd-upgrade',
      /bitnami\/kubectl.* is not in the inventory/,
    );
    assert.ok(!violations.some((v) => v.name === 'traefik-test'), violations.map(formatViolation).join('\n'));
  });

  test("a chart pod that breaks one of lumen's Gatekeeper constraints", async () => {
    const image = '"{{ .Values.image.registry }}/{{ .Values.image.repository }}:latest"';
    const violations = await check({ templates: { 'deployment.yaml': deployment({ image }) } });
    rejects(violations, 'admission/LumenImageTag', 'Deployment/traefik/traefik', /latest/);
  });

  test('a chart that serves another port than the declared flow', async () => {
    const violations = await check({
      templates: { 'deployment.yaml': deployment(), 'service.yaml': service },
      values: { ...goodValues, metricsPort: 9101 },
    });
    rejects(
      violations,
      'network',
      'Deployment/traefik/traefik',
      /^traefik\/traefik does not listen on 9100\/TCP \(it listens on 8000\/TCP, 9101\/TCP\), which the matrix declares from monitoring\/prometheus$/,
    );
  });

  test('required pod anti-affinity with more replicas than the site has nodes', async () => {
    const affinity = `      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - topologyKey: kubernetes.io/hostname
              labelSelector:
                matchLabels:
                  app.kubernetes.io/name: traefik`;
    const violations = await check({
      templates: { 'deployment.yaml': deployment({ affinity }) },
      values: { ...goodValues, replicas: 3 },
    });
    rejects(
      violations,
      'scheduling',
      'Deployment/traefik/traefik',
      /^3 replicas with required pod anti-affinity on kubernetes\.io\/hostname, but only 2 node\(s\) can take them \(node-1, node-2\): 1 pod\(s\) would stay Pending$/,
    );
  });

  test('a node selector no node of the site matches', async () => {
    const affinity = '      nodeSelector:\n        node-role.kubernetes.io/ingress: "true"';
    const violations = await check({ templates: { 'deployment.yaml': deployment({ affinity }) } });
    rejects(
      violations,
      'scheduling',
      'Deployment/traefik/traefik',
      /^no node of the site \(node-1, node-2\) matches nodeSelector/,
    );
  });

  test("a chart Secret: config text is not a secret, the chart's default password in it is", async () => {
    const secret = (line: string) => `apiVersion: v1
kind: Secret
metadata:
  name: traefik-config
stringData:
  app.ini: |
    [server]
    ROOT_URL = https://traefik.airgap.local
    ${line}
`;
    const clean = await check({
      templates: { 'deployment.yaml': deployment(), 'secret.yaml': secret('PASSWORD_COMPLEXITY = off') },
    });
    assert.deepEqual(clean.map(formatViolation), []);
    const violations = await check({
      templates: { 'deployment.yaml': deployment(), 'secret.yaml': secret('ADMIN_PASSWORD = r8sA8CPHD9!bt6d') },
    });
    rejects(
      violations,
      'plaintext-secret',
      'Secret/traefik/traefik-config',
      /^stringData\.app\.ini sets ADMIN_PASSWORD to a literal$/,
    );
  });

  test('a pinned chart version the source does not have', async () => {
    const violations = await check({ templates: { 'deployment.yaml': deployment() }, pin: '1.0.1' });
    rejects(
      violations,
      'chart',
      'Application/argocd/traefik',
      /^chart demo 1\.0\.1 is not in .* \(it has 1\.0\.0\)$/,
      /deploy\/apps\/traefik\.yaml$/,
    );
  });
});

describe('the rendered charts on the real API server (--server)', () => {
  let server: KubeApiserver;
  before(async () => {
    server = await startKubeApiserver({ apiserverBin: findEngine('kube-apiserver'), etcdBin: findEngine('etcd') });
  });
  after(() => server?.close());
  const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.demo.lumen.dev
spec:
  group: demo.lumen.dev
  scope: Namespaced
  names: { kind: Widget, plural: widgets, singular: widget, listKind: WidgetList }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: { type: integer, minimum: 1 }
`;
  const widget = (name: string, size: unknown) => ({
    apiVersion: 'demo.lumen.dev/v1',
    kind: 'Widget',
    metadata: { name, namespace: 'traefik' },
    spec: { size },
  });
  test("a chart's CRD is created on the server and custom resources of it are judged by its schema", async () => {
    const s = scenario({ templates: { 'deployment.yaml': deployment(), 'service.yaml': service, 'crd.yaml': crd } });
    try {
      writeFileSync(
        join(s.root, 'deploy', 'traefik', 'widgets.yaml'),
        [widget('small', 2), widget('word', 'big'), widget('zero', 0)].map((w) => stringify(w)).join('---\n'),
      );
      const options = {
        ...fixtureOptions(s.root),
        inventory,
        matrix: chartMatrix,
        charts: { kind: 'dir' as const, dir: s.charts },
      };
      // Offline, a custom resource of a chart's CRD has no schema lumen knows: nothing is proven wrong.
      assert.deepEqual((await runCheck(options)).violations.map(formatViolation), []);
      const result = await runCheck({ ...options, server: { kubeconfig: server.kubeconfig } });
      const lines = result.violations.map(formatViolation);
      assert.equal(result.violations.length, 2, lines.join('\n'));
      assert.match(
        lines[0] as string,
        /Widget\/traefik\/word: schema: API server: .*\.spec\.size: expected numeric \(int or float\), got string/,
      );
      assert.match(
        lines[1] as string,
        /Widget\/traefik\/zero: schema: API server: .*spec\.size: Invalid value: 0: spec\.size in body should be greater than or equal to 1/,
      );
      // The chart's own objects were judged too.
      assert.ok((result.server?.judged ?? 0) > 20);
      assert.equal(result.server?.skipped.filter((k) => k.kind === 'Widget').length, 0);
    } finally {
      s.cleanup();
    }
  });
});

describe('charts from archives and from a registry', () => {
  /** The good chart packaged by helm into `<dir>/demo-1.0.0.tgz`. */
  function packaged(): { s: ReturnType<typeof scenario>; archive: string } {
    const s = scenario({ templates: { 'deployment.yaml': deployment(), 'service.yaml': service } });
    const out = join(scratch, `packaged-${counter++}`);
    const r = spawnSync(helm, ['package', join(s.charts, 'demo'), '--destination', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    rmSync(join(s.charts, 'demo'), { recursive: true });
    return { s, archive: join(out, 'demo-1.0.0.tgz') };
  }

  test('a directory of chart archives (helm package output)', async () => {
    const { s, archive } = packaged();
    try {
      const dir = join(scratch, `archives-${counter++}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'demo-1.0.0.tgz'), readFileSync(archive));
      const result = await runCheck({
        ...fixtureOptions(s.root),
        inventory,
        matrix: chartMatrix,
        charts: { kind: 'dir', dir },
      });
      assert.deepEqual(result.violations.map(formatViolation), []);
      assert.equal(result.charts?.rendered[0]?.objects, 2);
    } finally {
      s.cleanup();
    }
  });

  test('a real Distribution registry holding the chart as a Helm OCI artifact, as lumen bundle push stores it', async () => {
    const { s, archive } = packaged();
    const upstream = await startRegistry();
    try {
      const reg = new Registry({ host: upstream.host, plainHttp: true });
      const oci = chartArtifact(readFileSync(archive), { chart: 'demo', version: '1.0.0' });
      for (const blob of [oci.config, oci.archive]) {
        await reg.uploadBlob('charts/demo', digestOf(blob), blob.length, (a, b) =>
          Readable.from([blob.subarray(a, b + 1)]),
        );
      }
      await reg.putManifest('charts/demo', '1.0.0', oci.manifest, MediaType.ociManifest);
      const source = { kind: 'registry', host: upstream.host, plainHttp: true } as const;
      const result = await runCheck({ ...fixtureOptions(s.root), inventory, matrix: chartMatrix, charts: source });
      assert.deepEqual(result.violations.map(formatViolation), []);
      assert.equal(result.charts?.rendered[0]?.objects, 2);
      // A version the registry does not hold is the chart's violation, not a crash.
      const missing = scenario({ templates: { 'deployment.yaml': deployment() }, pin: '1.0.1' });
      try {
        const r = await runCheck({ ...fixtureOptions(missing.root), inventory, matrix: chartMatrix, charts: source });
        rejects(
          r.violations,
          'chart',
          'Application/argocd/traefik',
          new RegExp(`^chart demo 1\\.0\\.1 is not in ${upstream.host}/charts/demo$`),
          /deploy\/apps\/traefik\.yaml$/,
        );
      } finally {
        missing.cleanup();
      }
    } finally {
      await upstream.stop();
      s.cleanup();
    }
  });
});

describe('lumen check --charts at the CLI edge', () => {
  const lumen = (env: Record<string, string | undefined>, ...args: string[]) =>
    runLumenSync(['check', ...args], { env });

  test('without helm: exit 5 and where it looked', () => {
    const s = scenario({ templates: { 'deployment.yaml': deployment() } });
    try {
      const r = lumen(
        { LUMEN_HELM: join(scratch, 'no-helm') },
        '--deploy',
        join(s.root, 'deploy'),
        '--charts',
        s.charts,
      );
      assert.equal(r.status, 5, r.stdout + r.stderr);
      assert.match(r.stderr, /LUMEN_HELM=.*no-helm is not an executable file/);
    } finally {
      s.cleanup();
    }
  });

  test('two chart sources, or --plain-http without --registry: exit 2', () => {
    assert.equal(lumen({}, '--charts', scratch, '--bundle', scratch).status, 2);
    const r = lumen({}, '--charts', scratch, '--plain-http');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--plain-http goes with --registry/);
  });

  test('an unreachable registry: exit 3', () => {
    // Port 9 on loopback: nothing listens (discard is not run here), the connection is refused.
    const r = lumen({}, '--registry', '127.0.0.1:9', '--plain-http');
    assert.equal(r.status, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /registry 127\.0\.0\.1:9/);
  });
});
