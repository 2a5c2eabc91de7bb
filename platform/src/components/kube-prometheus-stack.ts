/**
 * kube-prometheus-stack (seed: Prometheus, Grafana, Alertmanager, node-exporter,
 * kube-state-metrics in namespace monitoring). Grafana gets the Prometheus, Loki and Tempo
 * datasources with trace↔log links (a trace_id in a log line opens the trace; a span opens its logs)
 * and loads dashboards from ConfigMaps labelled grafana_dashboard=1 in any namespace.
 */

import { flow, tcp, toApiServer } from '../blocks/flows.ts';
import { kvMount, vaultAccess } from '../blocks/vault-access.ts';
import type { Context } from '../engine/context.ts';
import { vaultStaticSecret } from '../engine/crd-types.ts';
import type { Component } from '../engine/types.ts';
import { prometheusDatasourceUid } from '../observability/dashboard.ts';

const ns = 'monitoring';
/** Secret (synced from Vault) holding Grafana's admin-user and admin-password. */
const grafanaAdminSecret = 'grafana-admin';
/** Service account VSO authenticates as to read Grafana's admin credentials (Vault role `grafana`). */
const grafanaVaultSa = 'grafana-vault';

/** Grafana datasources: uids are fixed so links between them resolve. */
export function grafanaDatasources() {
  return [
    {
      name: 'Loki',
      uid: 'loki',
      type: 'loki',
      access: 'proxy',
      url: 'http://loki.loki.svc.cluster.local:3100',
      jsonData: {
        // lumen-api writes trace_id into every JSON log line (docs/telemetry.md); this turns it into a link to Tempo.
        derivedFields: [
          {
            name: 'TraceID',
            matcherRegex: '"trace_id":"([0-9a-f]{32})"',
            datasourceUid: 'tempo',
            url: '$${__value.raw}',
          },
        ],
      },
    },
    {
      name: 'Tempo',
      uid: 'tempo',
      type: 'tempo',
      access: 'proxy',
      // The tempo chart serves its HTTP API (queries, /metrics) on 3200.
      url: 'http://tempo.tempo.svc.cluster.local:3200',
      jsonData: {
        tracesToLogsV2: {
          datasourceUid: 'loki',
          filterByTraceID: true,
          spanStartTimeShift: '-5m',
          spanEndTimeShift: '5m',
        },
        serviceMap: { datasourceUid: prometheusDatasourceUid },
        nodeGraph: { enabled: true },
      },
    },
  ];
}

export function kubePrometheusStack(ctx: Context): Component {
  // How the charts take a digest (chart 88.0.1 and its subcharts, read at that version).
  // `tag: <tag>@<digest>` renders `<registry>/<repository>:<tag>@sha256:…` for every image of the parent chart,
  // Grafana (its version label strips `@sha…`), k8s-sidecar and kube-state-metrics: none parses that tag.
  const img = (name: string) => {
    const p = ctx.imageParts(name);
    return { registry: p.registry, repository: p.repository, tag: p.tagAtDigest };
  };
  // Prometheus and Alertmanager: the chart copies the tag into `spec.version` unless `version` is set, and the
  // operator parses it as semver (`v0.33.1@sha256:…` fails: no StatefulSet is ever created). `-distroless`
  // names an image variant, not a version.
  const version = (name: string) => ctx.imageParts(name).tag.replace(/-distroless$/, '');
  // node-exporter: the chart appends `-distroless` to the tag when `distroless: true` (the parent chart's
  // default) and semver-compares the tag, so the tag stays plain (the inventory's already names the variant)
  // and the digest goes to its `digest` key.
  const nodeExporter = ctx.imageParts('node-exporter');
  return {
    name: 'kube-prometheus-stack',
    namespace: ns,
    // node-exporter needs the host network, PID namespace and hostPath mounts.
    podSecurity: 'privileged',
    summary: 'Prometheus Operator, Prometheus, Alertmanager, Grafana, node-exporter, kube-state-metrics',
    helm: {
      chart: 'kube-prometheus-stack',
      values: {
        crds: { enabled: true },
        // K3s embeds these in one process; the chart's separate scrape jobs would only report them down.
        kubeEtcd: { enabled: false },
        kubeControllerManager: { enabled: false },
        kubeScheduler: { enabled: false },
        kubeProxy: { enabled: false },
        // CoreDNS runs in kube-system, which no flow can name: its scrape (9153) would be denied by Prometheus'
        // egress policy and fire TargetDown forever.
        coreDns: { enabled: false },
        prometheusOperator: {
          image: img('prometheus-operator'),
          prometheusConfigReloader: { image: img('prometheus-config-reloader') },
          admissionWebhooks: { patch: { enabled: false }, certManager: { enabled: true } },
        },
        prometheus: {
          prometheusSpec: {
            image: img('prometheus'),
            version: version('prometheus'),
            // Select every ServiceMonitor and PrometheusRule, not only the chart's own.
            serviceMonitorSelectorNilUsesHelmValues: false,
            podMonitorSelectorNilUsesHelmValues: false,
            ruleSelectorNilUsesHelmValues: false,
            retention: '15d',
            podMetadata: { labels: { app: 'prometheus', tier: 'observability' } },
          },
        },
        alertmanager: {
          alertmanagerSpec: {
            image: img('alertmanager'),
            version: version('alertmanager'),
            // No plaintext Secret from the chart: without one the operator runs Alertmanager on its built-in
            // minimal configuration (route to a 'null' receiver) — lumen configures no receivers anyway.
            useExistingSecret: true,
          },
        },
        'kube-state-metrics': { image: img('kube-state-metrics') },
        'prometheus-node-exporter': {
          image: {
            registry: nodeExporter.registry,
            repository: nodeExporter.repository,
            tag: nodeExporter.tag,
            distroless: false,
            digest: nodeExporter.digest,
          },
        },
        grafana: {
          image: img('grafana'),
          // The chart would otherwise render a Secret with a random admin password, regenerated on every
          // Argo CD manifest generation (helm `lookup` returns nothing there).
          admin: { existingSecret: grafanaAdminSecret, userKey: 'admin-user', passwordKey: 'admin-password' },
          sidecar: {
            image: img('k8s-sidecar'),
            dashboards: { enabled: true, label: 'grafana_dashboard', labelValue: '1', searchNamespace: 'ALL' },
            datasources: { enabled: true, defaultDatasourceEnabled: true, uid: prometheusDatasourceUid },
          },
          additionalDataSources: grafanaDatasources(),
          'grafana.ini': {
            server: { root_url: `https://${ctx.host('grafana')}` },
            analytics: { check_for_updates: false, reporting_enabled: false },
          },
          testFramework: { enabled: false },
          podLabels: { app: 'grafana', tier: 'observability' },
        },
      },
    },
    // The operator creates and maintains the kubelet Service (--kubelet-service) that the chart's kubelet
    // ServiceMonitor selects; its labels are the operator's (pkg/kubelet in prometheus-operator).
    runtimeServices: [
      {
        name: 'kube-prometheus-stack-kubelet',
        namespace: 'kube-system',
        labels: {
          'app.kubernetes.io/name': 'kubelet',
          'app.kubernetes.io/managed-by': 'prometheus-operator',
          'k8s-app': 'kubelet',
        },
      },
    ],
    providesCrds: [
      'alertmanagerconfigs.monitoring.coreos.com',
      'alertmanagers.monitoring.coreos.com',
      'podmonitors.monitoring.coreos.com',
      'probes.monitoring.coreos.com',
      'prometheusagents.monitoring.coreos.com',
      'prometheuses.monitoring.coreos.com',
      'prometheusrules.monitoring.coreos.com',
      'scrapeconfigs.monitoring.coreos.com',
      'servicemonitors.monitoring.coreos.com',
      'thanosrulers.monitoring.coreos.com',
    ],
    // The chart's admission webhook certificate comes from cert-manager.
    chartUsesCrds: ['certificates.cert-manager.io', 'issuers.cert-manager.io'],
    objects: [
      // Grafana's admin credentials from Vault (KV `monitoring/grafana`: admin-user, admin-password).
      {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: grafanaVaultSa, namespace: ns, labels: { app: 'grafana', tier: 'observability' } },
        automountServiceAccountToken: false,
      },
      ...vaultAccess(ns, 'grafana', grafanaVaultSa),
      vaultStaticSecret(
        { name: grafanaAdminSecret, namespace: ns, labels: { app: 'grafana', tier: 'observability' } },
        {
          vaultAuthRef: 'grafana',
          mount: kvMount,
          type: 'kv-v2',
          path: 'monitoring/grafana',
          refreshAfter: '60s',
          rolloutRestartTargets: [{ kind: 'Deployment', name: 'kube-prometheus-stack-grafana' }],
          destination: { name: grafanaAdminSecret, create: true, type: 'Opaque' },
        },
      ),
    ],
    // Names are the platform's ids (flows of other components use them); the real objects are noted per entry.
    workloads: [
      {
        // StatefulSet prometheus-kube-prometheus-stack-prometheus, made by the operator from the Prometheus CR.
        name: 'prometheus',
        kind: 'StatefulSet',
        source: 'operator',
        // The operator's selector labels (the chart's Service selects on operator.prometheus.io/name).
        podLabels: {
          'app.kubernetes.io/name': 'prometheus',
          'app.kubernetes.io/instance': 'kube-prometheus-stack-prometheus',
          'operator.prometheus.io/name': 'kube-prometheus-stack-prometheus',
          prometheus: 'kube-prometheus-stack-prometheus',
        },
        ports: [
          { port: 9090, name: 'http-web' },
          { port: 8080, name: 'reloader-web' }, // config-reloader sidecar
          { port: 8081, name: 'reloader-init' }, // init-config-reloader (init container)
        ],
      },
      {
        // StatefulSet alertmanager-kube-prometheus-stack-alertmanager, made by the operator from the Alertmanager CR.
        name: 'alertmanager',
        kind: 'StatefulSet',
        source: 'operator',
        podLabels: {
          'app.kubernetes.io/name': 'alertmanager',
          'app.kubernetes.io/instance': 'kube-prometheus-stack-alertmanager',
          alertmanager: 'kube-prometheus-stack-alertmanager',
        },
        ports: [
          { port: 9093, name: 'http-web' },
          // Cluster gossip ports: declared on the container, unused with one replica (the operator then passes
          // --cluster.listen-address=); add an alertmanager → alertmanager flow (TCP and UDP) with more replicas.
          { port: 9094, name: 'mesh-tcp' },
          { port: 9094, protocol: 'UDP', name: 'mesh-udp' },
          { port: 8080, name: 'reloader-web' },
          { port: 8081, name: 'reloader-init' },
        ],
      },
      {
        // Deployment kube-prometheus-stack-operator (also serves the PrometheusRule/AlertmanagerConfig webhooks).
        name: 'operator',
        kind: 'Deployment',
        source: 'chart',
        podLabels: { app: 'kube-prometheus-stack-operator', release: 'kube-prometheus-stack' },
        ports: [{ port: 10250, name: 'https' }],
      },
      {
        // Deployment kube-prometheus-stack-grafana.
        name: 'grafana',
        kind: 'Deployment',
        source: 'chart',
        podLabels: { 'app.kubernetes.io/name': 'grafana', 'app.kubernetes.io/instance': 'kube-prometheus-stack' },
        ports: [
          { port: 3000, name: 'grafana' },
          // Declared by the chart for unified-alerting HA and pprof; nothing listens there with lumen's grafana.ini.
          { port: 9094, name: 'gossip-tcp' },
          { port: 9094, protocol: 'UDP', name: 'gossip-udp' },
          { port: 6060, name: 'profiling' },
        ],
      },
      {
        // Deployment kube-prometheus-stack-kube-state-metrics.
        name: 'kube-state-metrics',
        kind: 'Deployment',
        source: 'chart',
        podLabels: {
          'app.kubernetes.io/name': 'kube-state-metrics',
          'app.kubernetes.io/instance': 'kube-prometheus-stack',
        },
        ports: [
          { port: 8080, name: 'http' },
          { port: 8081, name: 'metrics' }, // its own telemetry; not scraped (selfMonitor off)
        ],
      },
      {
        // DaemonSet kube-prometheus-stack-prometheus-node-exporter.
        name: 'prometheus-node-exporter',
        kind: 'DaemonSet',
        source: 'chart',
        podLabels: {
          'app.kubernetes.io/name': 'prometheus-node-exporter',
          'app.kubernetes.io/instance': 'kube-prometheus-stack',
        },
        ports: [{ port: 9100, name: 'http-metrics' }],
        hostNetwork: true,
      },
    ],
    flows: [
      toApiServer('kube-prometheus-stack/prometheus', 'Prometheus discovers targets through the API'),
      toApiServer('kube-prometheus-stack/operator', 'the operator reconciles Prometheus, ServiceMonitors and rules'),
      toApiServer('kube-prometheus-stack/kube-state-metrics', 'kube-state-metrics lists every object'),
      toApiServer('kube-prometheus-stack/grafana', 'the sidecar loads dashboards and datasources from ConfigMaps'),
      flow('@nodes', 'kube-prometheus-stack/operator', tcp(10250), 'the API server calls the PrometheusRule webhook'),
      flow(
        'kube-prometheus-stack/prometheus',
        '@nodes',
        tcp(10250, 9100),
        'kubelet/cAdvisor and node-exporter metrics',
      ),
      flow(
        'kube-prometheus-stack/prometheus',
        'kube-prometheus-stack/kube-state-metrics',
        tcp(8080),
        'object state metrics',
      ),
      flow(
        'kube-prometheus-stack/prometheus',
        'kube-prometheus-stack/prometheus',
        tcp(9090, 8080),
        'Prometheus scrapes itself and its config reloader through its pod IP',
      ),
      flow('kube-prometheus-stack/prometheus', 'kube-prometheus-stack/alertmanager', tcp(9093), 'alerts'),
      flow(
        'kube-prometheus-stack/prometheus',
        'kube-prometheus-stack/alertmanager',
        tcp(8080),
        'Alertmanager config-reloader metrics',
      ),
      flow('kube-prometheus-stack/prometheus', 'kube-prometheus-stack/grafana', tcp(3000), 'Grafana metrics'),
      flow('kube-prometheus-stack/prometheus', 'kube-prometheus-stack/operator', tcp(10250), 'operator metrics'),
      flow('kube-prometheus-stack/grafana', 'kube-prometheus-stack/prometheus', tcp(9090), 'the Prometheus datasource'),
      flow(
        'kube-prometheus-stack/grafana',
        'kube-prometheus-stack/alertmanager',
        tcp(9093),
        'the Alertmanager datasource (chart default)',
      ),
      flow('kube-prometheus-stack/grafana', 'loki/loki', tcp(3100), 'the Loki datasource'),
      flow('kube-prometheus-stack/grafana', 'tempo/tempo', tcp(3200), 'the Tempo datasource'),
    ],
  };
}
