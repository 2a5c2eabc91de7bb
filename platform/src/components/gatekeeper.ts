/**
 * OPA Gatekeeper (seed: layer 1 admission, wave 0), the first of three Applications, because each
 * step creates the CRDs the next one needs: this chart provides ConstraintTemplate;
 * gatekeeper-templates creates one constraint CRD per template; gatekeeper-constraints uses those.
 */

import { fromNodes, tcp, toApiServer } from '../blocks/flows.ts';
import type { Context } from '../engine/context.ts';
import type { Component } from '../engine/types.ts';

const ns = 'gatekeeper-system';

export function gatekeeper(ctx: Context): Component {
  const p = ctx.imageParts('gatekeeper');
  return {
    name: 'gatekeeper',
    namespace: ns,
    // baseline: gatekeeper-templates and gatekeeper-constraints share the namespace and must agree. The chart
    // (3.23.0) would meet restricted: every pod non-root, seccomp RuntimeDefault, no escalation, ALL dropped.
    podSecurity: 'baseline',
    summary: 'OPA Gatekeeper admission controller and audit (CEL engine enabled)',
    helm: {
      chart: 'gatekeeper',
      values: {
        // The chart templates `repository:release` (no digest key, `release` is parsed nowhere else while the
        // CRD-upgrade hook is off); tag@digest pins the digest through that one field.
        image: { repository: p.repositoryWithRegistry, release: p.tagAtDigest },
        // The CRD-upgrade hook would run the gatekeeper-crds image with the same `release` (and so the wrong
        // digest); Argo CD applies the chart's crds/ directory itself.
        upgradeCRDs: { enabled: false },
        // The chart labels every pod `app: gatekeeper` itself; a second `app` here is a duplicate YAML key.
        podLabels: { tier: 'security' },
        // The webhooks skip Gatekeeper's own namespace by name (chart default) and, with these, kube-system, or a
        // broken webhook could block its own recovery. exemptNamespaces only allows the ignore label there.
        controllerManager: { exemptNamespaces: ['kube-system'] },
        validatingWebhookExemptNamespacesLabels: { 'kubernetes.io/metadata.name': ['kube-system'] },
        mutatingWebhookExemptNamespacesLabels: { 'kubernetes.io/metadata.name': ['kube-system'] },
        enableK8sNativeValidation: true,
        // Both post-install hooks pull images that are not carried (gatekeeper-crds, curlimages/curl); a hook Job
        // stuck in ImagePullBackOff would hold the Argo CD sync. Argo CD health checks wait for the webhook.
        postInstall: { labelNamespace: { enabled: false }, probeWebhook: { enabled: false } },
        postUpgrade: { labelNamespace: { enabled: false } },
      },
    },
    providesCrds: [
      'constrainttemplates.templates.gatekeeper.sh',
      'configs.config.gatekeeper.sh',
      'assign.mutations.gatekeeper.sh',
      'assignmetadata.mutations.gatekeeper.sh',
      'modifyset.mutations.gatekeeper.sh',
      'assignimage.mutations.gatekeeper.sh',
      'providers.externaldata.gatekeeper.sh',
      'expansiontemplate.expansion.gatekeeper.sh',
      'syncsets.syncset.gatekeeper.sh',
      'connections.connection.gatekeeper.sh',
      'configpodstatuses.status.gatekeeper.sh',
      'connectionpodstatuses.status.gatekeeper.sh',
      'constraintpodstatuses.status.gatekeeper.sh',
      'constrainttemplatepodstatuses.status.gatekeeper.sh',
      'expansiontemplatepodstatuses.status.gatekeeper.sh',
      'mutatorpodstatuses.status.gatekeeper.sh',
      'providerpodstatuses.status.gatekeeper.sh',
    ],
    objects: [],
    workloads: [
      {
        name: 'gatekeeper-controller-manager',
        kind: 'Deployment',
        source: 'chart',
        podLabels: { 'control-plane': 'controller-manager', 'gatekeeper.sh/operation': 'webhook' },
        // Service gatekeeper-webhook-service 443 → webhook-server 8443
        ports: [
          { port: 8443, name: 'webhook-server' },
          { port: 8888, name: 'metrics' },
          { port: 9090, name: 'healthz' },
        ],
      },
      {
        name: 'gatekeeper-audit',
        kind: 'Deployment',
        source: 'chart',
        podLabels: { 'control-plane': 'audit-controller', 'gatekeeper.sh/operation': 'audit' },
        ports: [
          { port: 8888, name: 'metrics' },
          { port: 9090, name: 'healthz' },
        ],
      },
    ],
    flows: [
      toApiServer(
        'gatekeeper/gatekeeper-controller-manager',
        'Gatekeeper watches templates, constraints and synced data',
      ),
      toApiServer('gatekeeper/gatekeeper-audit', 'audit lists every object and writes violations'),
      fromNodes('gatekeeper/gatekeeper-controller-manager', tcp(8443), 'the API server calls the validating webhook'),
    ],
  };
}
