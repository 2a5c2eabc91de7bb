/**
 * kube-prometheus-stack (seed: Prometheus, Grafana, Alertmanager, node-exporter,
 * kube-state-metrics in namespace monitoring). Grafana gets the Prometheus, Loki and Tempo
 * datasources with trace↔log links (a trace_id in a log line opens the trace; a span opens its logs)
 * and loads dashboards from ConfigMaps labelled grafana_dashboard=1 in any namespace.
 */
import type { Context } from '../context.ts';
import { prometheusDatasourceUid } from '../dashboard.ts';
import { flow, tcp, toApiServer } from '../flows.ts';
import type { Component } from '../types.ts';

const ns = 'monitoring';

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
        // lumen-api writes trace_id into every JSON log line (DESIGN.md); this turns it into a link to Tempo.
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
      url: 'http://tempo.tempo.svc.cluster.local:3100',
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
  const img = (name: string) => {
    const p = ctx.imageParts(name);
    return { registry: p.registry, repository: p.repository, tag: p.tagAtDigest };
  };
  const grafana = ctx.imageParts('grafana');
  const sidecar = ctx.imageParts('k8s-sidecar');
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
        prometheusOperator: {
          image: img('prometheus-operator'),
          prometheusConfigReloader: { image: img('prometheus-config-reloader') },
          admissionWebhooks: { patch: { enabled: false }, certManager: { enabled: true } },
        },
        prometheus: {
          prometheusSpec: {
            image: img('prometheus'),
            // Select every ServiceMonitor and PrometheusRule, not only the chart's own.
            serviceMonitorSelectorNilUsesHelmValues: false,
            podMonitorSelectorNilUsesHelmValues: false,
            ruleSelectorNilUsesHelmValues: false,
            retention: '15d',
            podMetadata: { labels: { app: 'prometheus', tier: 'observability' } },
          },
        },
        alertmanager: { alertmanagerSpec: { image: img('alertmanager') } },
        'kube-state-metrics': { image: img('kube-state-metrics') },
        'prometheus-node-exporter': { image: img('node-exporter') },
        grafana: {
          image: { registry: grafana.registry, repository: grafana.repository, tag: grafana.tagAtDigest },
          sidecar: {
            image: { registry: sidecar.registry, repository: sidecar.repository, tag: sidecar.tagAtDigest },
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
    objects: [],
    workloads: [
      {
        name: 'prometheus',
        kind: 'StatefulSet',
        source: 'chart',
        podLabels: { 'app.kubernetes.io/name': 'prometheus', prometheus: 'kube-prometheus-stack-prometheus' },
        ports: [{ port: 9090 }, { port: 8080 }],
      },
      {
        name: 'alertmanager',
        kind: 'StatefulSet',
        source: 'chart',
        podLabels: { 'app.kubernetes.io/name': 'alertmanager', alertmanager: 'kube-prometheus-stack-alertmanager' },
        ports: [{ port: 9093 }, { port: 9094 }, { port: 8080 }],
      },
      {
        name: 'prometheus-operator',
        kind: 'Deployment',
        source: 'chart',
        podLabels: { app: 'kube-prometheus-stack-operator', release: 'kube-prometheus-stack' },
        ports: [{ port: 10250 }],
      },
      {
        name: 'grafana',
        kind: 'Deployment',
        source: 'chart',
        podLabels: { 'app.kubernetes.io/name': 'grafana', 'app.kubernetes.io/instance': 'kube-prometheus-stack' },
        ports: [{ port: 3000 }],
      },
      {
        name: 'kube-state-metrics',
        kind: 'Deployment',
        source: 'chart',
        podLabels: {
          'app.kubernetes.io/name': 'kube-state-metrics',
          'app.kubernetes.io/instance': 'kube-prometheus-stack',
        },
        ports: [{ port: 8080 }],
      },
      {
        name: 'node-exporter',
        kind: 'DaemonSet',
        source: 'chart',
        podLabels: {
          'app.kubernetes.io/name': 'prometheus-node-exporter',
          'app.kubernetes.io/instance': 'kube-prometheus-stack',
        },
        ports: [{ port: 9100 }],
        hostNetwork: true,
      },
    ],
    flows: [
      toApiServer('kube-prometheus-stack/prometheus', 'Prometheus discovers targets through the API'),
      toApiServer(
        'kube-prometheus-stack/prometheus-operator',
        'the operator reconciles Prometheus, ServiceMonitors and rules',
      ),
      toApiServer('kube-prometheus-stack/kube-state-metrics', 'kube-state-metrics lists every object'),
      toApiServer('kube-prometheus-stack/grafana', 'the sidecar loads dashboards and datasources from ConfigMaps'),
      flow(
        '@nodes',
        'kube-prometheus-stack/prometheus-operator',
        tcp(10250),
        'the API server calls the PrometheusRule webhook',
      ),
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
      flow('kube-prometheus-stack/prometheus', 'kube-prometheus-stack/alertmanager', tcp(9093), 'alerts'),
      flow('kube-prometheus-stack/prometheus', 'kube-prometheus-stack/grafana', tcp(3000), 'Grafana metrics'),
      flow(
        'kube-prometheus-stack/prometheus',
        'kube-prometheus-stack/prometheus-operator',
        tcp(10250),
        'operator metrics',
      ),
      flow(
        'kube-prometheus-stack/alertmanager',
        'kube-prometheus-stack/alertmanager',
        tcp(9094),
        'Alertmanager cluster gossip',
      ),
      flow('kube-prometheus-stack/grafana', 'kube-prometheus-stack/prometheus', tcp(9090), 'the Prometheus datasource'),
      flow('kube-prometheus-stack/grafana', 'loki/loki', tcp(3100), 'the Loki datasource'),
      flow('kube-prometheus-stack/grafana', 'tempo/tempo', tcp(3100), 'the Tempo datasource'),
    ],
  };
}
