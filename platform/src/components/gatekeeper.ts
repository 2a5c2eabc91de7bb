/**
 * OPA Gatekeeper (seed: layer 1 admission, wave 0), the first of three Applications, because each
 * step creates the CRDs the next one needs: this chart provides ConstraintTemplate;
 * gatekeeper-templates creates one constraint CRD per template; gatekeeper-constraints uses those.
 */
import type { Context } from '../context.ts';
import { fromNodes, tcp, toApiServer } from '../flows.ts';
import type { Component } from '../types.ts';

const ns = 'gatekeeper-system';

export function gatekeeper(ctx: Context): Component {
  const p = ctx.imageParts('gatekeeper');
  return {
    name: 'gatekeeper',
    namespace: ns,
    // baseline, not restricted: not every chart version sets a seccomp profile on its pods, and a refused
    // admission controller would block nothing. Pod Security forbids privileged/host access all the same.
    podSecurity: 'baseline',
    summary: 'OPA Gatekeeper admission controller and audit (CEL engine enabled)',
    helm: {
      chart: 'gatekeeper',
      values: {
        // The chart templates `repository:release`; tag@digest pins the digest through that one field.
        image: { repository: p.repositoryWithRegistry, release: p.tagAtDigest },
        // The CRD-upgrade hook would run the gatekeeper-crds image with the same `release` (and so the wrong
        // digest); Argo CD applies the chart's crds/ directory itself.
        upgradeCRDs: { enabled: false },
        podLabels: { app: 'gatekeeper', tier: 'security' },
        // Gatekeeper's own namespace and kube-system are exempt, or a broken webhook could block its own recovery.
        controllerManager: { exemptNamespaces: ['kube-system'] },
        enableK8sNativeValidation: true,
        postInstall: { labelNamespace: { enabled: false } },
        postUpgrade: { labelNamespace: { enabled: false } },
        psp: { enabled: false },
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
      'constraintpodstatuses.status.gatekeeper.sh',
      'constrainttemplatepodstatuses.status.gatekeeper.sh',
      'mutatorpodstatuses.status.gatekeeper.sh',
    ],
    objects: [],
    workloads: [
      {
        name: 'gatekeeper-controller-manager',
        kind: 'Deployment',
        source: 'chart',
        podLabels: { 'control-plane': 'controller-manager', 'gatekeeper.sh/operation': 'webhook' },
        ports: [{ port: 8443 }, { port: 8888 }, { port: 9090 }],
      },
      {
        name: 'gatekeeper-audit',
        kind: 'Deployment',
        source: 'chart',
        podLabels: { 'control-plane': 'audit-controller', 'gatekeeper.sh/operation': 'audit' },
        ports: [{ port: 8888 }, { port: 9090 }],
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
