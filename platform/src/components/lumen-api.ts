/**
 * lumen-api, the reference workload (seed: "lumen-app", wave 3): the Argo Rollout with its canary
 * (20% → analysis → 80% → analysis → 100%, Traefik weighted routing), stable/canary/metrics
 * Services, HPA, PDB, ONE ServiceMonitor selecting ONE Service, the IngressRoute with TLS from
 * the Vault issuer, database and Redis credentials from Vault, the SLO rules and the dashboard.
 */

import { AnalysisTemplate, Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1';
import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import {
  IngressRoute,
  Middleware,
  ServersTransport,
  TraefikService,
} from '@kubernetes-models/traefik/traefik.io/v1alpha1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { flow, tcp } from '../blocks/flows.ts';
import { restrictedContainer, restrictedPod, selectorLabels, workloadLabels } from '../blocks/pods.ts';
import { kvMount, vaultAccess } from '../blocks/vault-access.ts';
import type { Context } from '../engine/context.ts';
import { podChaos, vaultStaticSecret } from '../engine/crd-types.ts';
import { plain, toJson } from '../engine/serialize.ts';
import type { Component } from '../engine/types.ts';
import { analysisTemplateName, analysisTemplateSpec, canaryHashArg } from '../observability/canary-analysis.ts';
import { lumenApiDashboard } from '../observability/dashboard.ts';
import { apiNamespace, metricsServiceName, podTemplateHashLabel } from '../observability/promql.ts';
import { sloRuleGroups } from '../observability/slo-rules.ts';
import { clusterIssuerName } from './pki.ts';
import { sentinelAddresses } from './redis.ts';

type RolloutPodSpec = NonNullable<
  NonNullable<NonNullable<ConstructorParameters<typeof Rollout>[0]>['spec']['template']>['spec']
>;
type PreStopHandler = NonNullable<RolloutPodSpec['containers'][number]['lifecycle']>['preStop'];

const ns = apiNamespace;
const name = 'lumen-api';
const uid = 10001;

/** Shutdown timing (docs/api.md, Shutdown): preStop sleep, then readiness 503 for the delay, then drain. */
export const shutdown = { preStopSeconds: 5, delayMs: 5000, timeoutMs: 30000 } as const;
/** Above preStop + delay + drain, so the kubelet never SIGKILLs a draining pod. */
export const terminationGracePeriodSeconds =
  shutdown.preStopSeconds + (shutdown.delayMs + shutdown.timeoutMs) / 1000 + 5;

/** Traefik closes idle upstream connections after this, before lumen-api's 95 s keep-alive timeout (no 502 races). */
export const upstreamIdleTimeout = '60s';

export function lumenApi(ctx: Context): Component {
  const labels = workloadLabels(name, 'backend');
  const selector = selectorLabels(name);
  const apiHost = ctx.host('api');

  const rollout = new Rollout({
    metadata: { name, namespace: ns, labels },
    spec: {
      // The HPA owns the replica count; this is the starting point (seed: 2 replicas).
      replicas: 2,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selector },
      strategy: {
        canary: {
          stableService: `${name}-stable`,
          canaryService: `${name}-canary`,
          trafficRouting: { traefik: { weightedTraefikServiceName: name } },
          steps: [
            { setWeight: 20 },
            {
              analysis: {
                templates: [{ templateName: analysisTemplateName }],
                args: [{ name: canaryHashArg, valueFrom: { podTemplateHashValue: 'Latest' } }],
              },
            },
            { setWeight: 80 },
            {
              analysis: {
                templates: [{ templateName: analysisTemplateName }],
                args: [{ name: canaryHashArg, valueFrom: { podTemplateHashValue: 'Latest' } }],
              },
            },
            { setWeight: 100 },
          ],
        },
      },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: name,
          // lumen-api never talks to the Kubernetes API.
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds,
          securityContext: restrictedPod(uid),
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selector },
            },
          ],
          containers: [
            {
              name,
              image: ctx.image('lumen-api'),
              imagePullPolicy: 'IfNotPresent',
              ports: [
                { name: 'http', containerPort: 8080, protocol: 'TCP' },
                { name: 'admin', containerPort: 9090, protocol: 'TCP' },
              ],
              env: [
                { name: 'PORT', value: '8080' },
                { name: 'ADMIN_PORT', value: '9090' },
                { name: 'LOG_LEVEL', value: 'info' },
                { name: 'REDIS_MODE', value: 'sentinel' },
                { name: 'REDIS_SENTINEL_ADDRS', value: sentinelAddresses().join(',') },
                { name: 'REDIS_MASTER_NAME', value: 'mymaster' },
                { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: `${name}-redis`, key: 'password' } } },
                { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://alloy.alloy.svc.cluster.local:4318' },
                { name: 'OTEL_SERVICE_NAME', value: name },
                { name: 'SHUTDOWN_DELAY_MS', value: String(shutdown.delayMs) },
                { name: 'SHUTDOWN_TIMEOUT_MS', value: String(shutdown.timeoutMs) },
              ],
              // PG_RW_DSN and PG_RO_DSN, rendered by VSO from the Vault secret (never in Git).
              envFrom: [{ secretRef: { name: `${name}-db` } }],
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { cpu: '1', memory: '256Mi' },
              },
              // /livez only: /health checks shared dependencies, and a Redis outage must not restart every pod.
              livenessProbe: { httpGet: { path: '/livez', port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, failureThreshold: 1 },
              startupProbe: { httpGet: { path: '/livez', port: 'http' }, periodSeconds: 2, failureThreshold: 30 },
              // Endpoints removal propagates to Traefik while the pod still serves. The native sleep action
              // (Kubernetes ≥ 1.30) needs no `sleep` binary in the image; the Rollouts model predates it.
              lifecycle: { preStop: { sleep: { seconds: shutdown.preStopSeconds } } as PreStopHandler },
              securityContext: restrictedContainer(uid),
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
    },
  });

  const service = (svcName: string, port: number, portName: string, extraLabels: Record<string, string> = {}) =>
    new Service({
      metadata: { name: svcName, namespace: ns, labels: { ...labels, ...extraLabels } },
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: portName, port, targetPort: portName, protocol: 'TCP' }],
      },
    });

  const metricsLabel = { 'lumen.dev/metrics': name };
  const serviceMonitor = new ServiceMonitor({
    metadata: { name, namespace: ns, labels },
    spec: {
      // Exactly one Service carries this label: each pod is scraped once (the public implementation matched three).
      selector: { matchLabels: metricsLabel },
      namespaceSelector: { matchNames: [ns] },
      endpoints: [
        {
          port: 'admin',
          path: '/metrics',
          interval: '15s',
          relabelings: [
            {
              // The canary analysis selects the canary's own series by this label.
              sourceLabels: ['__meta_kubernetes_pod_label_rollouts_pod_template_hash'],
              targetLabel: podTemplateHashLabel,
              action: 'replace',
            },
          ],
        },
      ],
    },
  });

  const traefikService = new TraefikService({
    metadata: { name, namespace: ns, labels },
    spec: {
      weighted: {
        // Argo Rollouts rewrites the weights during a canary; the Application ignores that drift.
        services: [
          { name: `${name}-stable`, port: 8080, weight: 100, serversTransport: name },
          { name: `${name}-canary`, port: 8080, weight: 0, serversTransport: name },
        ],
      },
    },
  });

  const objects = [
    new ServiceAccount({ metadata: { name, namespace: ns, labels }, automountServiceAccountToken: false }),
    rollout,
    service(`${name}-stable`, 8080, 'http'),
    service(`${name}-canary`, 8080, 'http'),
    service(metricsServiceName, 9090, 'admin', metricsLabel),
    serviceMonitor,
    new AnalysisTemplate({
      metadata: { name: analysisTemplateName, namespace: ns, labels },
      spec: analysisTemplateSpec(),
    }),
    new HorizontalPodAutoscaler({
      metadata: { name, namespace: ns, labels },
      spec: {
        scaleTargetRef: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name },
        minReplicas: 2,
        maxReplicas: 6,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
        ],
      },
    }),
    new PodDisruptionBudget({
      metadata: { name, namespace: ns, labels },
      spec: { minAvailable: 1, selector: { matchLabels: selector } },
    }),
    traefikService,
    new ServersTransport({
      metadata: { name, namespace: ns, labels },
      spec: { forwardingTimeouts: { idleConnTimeout: upstreamIdleTimeout } },
    }),
    new Middleware({
      metadata: { name: `${name}-headers`, namespace: ns, labels },
      spec: {
        headers: {
          stsSeconds: 31536000,
          stsIncludeSubdomains: true,
          frameDeny: true,
          contentTypeNosniff: true,
          referrerPolicy: 'no-referrer',
        },
      },
    }),
    new Middleware({
      metadata: { name: `${name}-body-limit`, namespace: ns, labels },
      // Same 1 MiB limit as lumen-api: Traefik refuses larger bodies before they cross the cluster.
      spec: { buffering: { maxRequestBodyBytes: 1048576 } },
    }),
    new Certificate({
      metadata: { name: `${name}-tls`, namespace: ns, labels },
      spec: {
        secretName: `${name}-tls`,
        dnsNames: [apiHost],
        issuerRef: { kind: 'ClusterIssuer', name: clusterIssuerName, group: 'cert-manager.io' },
        duration: '2160h',
        // Seed: renewed 30 days before expiry.
        renewBefore: '720h',
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
      },
    }),
    new IngressRoute({
      metadata: { name, namespace: ns, labels },
      spec: {
        entryPoints: ['websecure'],
        routes: [
          {
            kind: 'Rule',
            match: `Host(\`${apiHost}\`)`,
            middlewares: [{ name: `${name}-headers` }, { name: `${name}-body-limit` }],
            services: [{ name, kind: 'TraefikService' }],
          },
        ],
        tls: { secretName: `${name}-tls` },
      },
    }),
    new PrometheusRule({ metadata: { name: `${name}-slo`, namespace: ns, labels }, spec: { groups: sloRuleGroups() } }),
    new ConfigMap({
      metadata: { name: `${name}-dashboard`, namespace: ns, labels: { ...labels, grafana_dashboard: '1' } },
      data: { 'lumen-api.json': toJson(lumenApiDashboard()) },
    }),
  ].map(plain);

  objects.push(
    ...vaultAccess(ns, name, name),
    vaultStaticSecret(
      { name: `${name}-db`, namespace: ns, labels },
      {
        vaultAuthRef: name,
        mount: kvMount,
        type: 'kv-v2',
        path: 'lumen/postgres',
        refreshAfter: '60s',
        rolloutRestartTargets: [{ kind: 'argo.Rollout', name }],
        destination: {
          name: `${name}-db`,
          create: true,
          type: 'Opaque',
          transformation: {
            excludeRaw: true,
            excludes: ['.*'],
            templates: {
              PG_RW_DSN: {
                text: 'postgres://{{ get .Secrets "username" }}:{{ get .Secrets "password" | urlquery }}@lumen-db-rw.cnpg-system.svc.cluster.local:5432/lumen?sslmode=require',
              },
              PG_RO_DSN: {
                text: 'postgres://{{ get .Secrets "username" }}:{{ get .Secrets "password" | urlquery }}@lumen-db-ro.cnpg-system.svc.cluster.local:5432/lumen?sslmode=require',
              },
            },
          },
        },
      },
    ),
    vaultStaticSecret(
      { name: `${name}-redis`, namespace: ns, labels },
      {
        vaultAuthRef: name,
        mount: kvMount,
        type: 'kv-v2',
        path: 'lumen/redis',
        refreshAfter: '60s',
        rolloutRestartTargets: [{ kind: 'argo.Rollout', name }],
        destination: { name: `${name}-redis`, create: true, type: 'Opaque' },
      },
    ),
  );

  const me = `${name}/${name}`;
  return {
    experiments: [
      // Seed chaos 01: kill 50% of lumen-api pods; validates that the Rollout recreates them (applied by hand).
      podChaos(
        { name: `${name}-pod-kill`, namespace: ns, labels: { app: 'chaos', tier: 'experiment' } },
        {
          action: 'pod-kill',
          mode: 'fixed-percent',
          value: '50',
          selector: { namespaces: [ns], labelSelectors: selector },
        },
      ),
    ],
    name,
    namespace: ns,
    podSecurity: 'restricted',
    summary:
      'lumen-api Rollout (canary with Traefik weights and Prometheus analysis), Services, HPA, PDB, ServiceMonitor, IngressRoute, VaultStaticSecrets, SLO rules, dashboard',
    providesCrds: [],
    objects,
    workloads: [
      {
        name,
        kind: 'Rollout',
        source: 'lumen',
        podLabels: selector,
        ports: [
          { name: 'http', port: 8080 },
          { name: 'admin', port: 9090 },
        ],
      },
    ],
    flows: [
      flow('traefik/traefik', me, tcp(8080), 'Traefik routes api.<domain> to lumen-api'),
      flow('kube-prometheus-stack/prometheus', me, tcp(9090), 'Prometheus scrapes /metrics on the admin port'),
      flow(me, 'redis/redis', tcp(6379), 'lumen-api reads and writes the Redis master'),
      flow(me, 'redis/redis-sentinel', tcp(26379), 'lumen-api discovers the Redis master through Sentinel'),
      flow(me, 'lumen-db/lumen-db', tcp(5432), 'lumen-api queries PostgreSQL (lumen-db-rw / lumen-db-ro)'),
      flow(me, 'alloy/alloy', tcp(4318), 'lumen-api exports traces over OTLP/HTTP to Alloy'),
    ],
  };
}
