/** MetalLB (seed: wave 0, L2 mode): the chart; its pool is metallb-config, in a later wave. */

import { fromNodes, tcp, toApiServer } from '../blocks/flows.ts';
import type { Context } from '../engine/context.ts';
import type { Component } from '../engine/types.ts';

const ns = 'metallb-system';
const labels = (component: string) => ({
  'app.kubernetes.io/name': 'metallb',
  'app.kubernetes.io/component': component,
});

export function metallb(ctx: Context): Component {
  const img = (name: string) => {
    const p = ctx.imageParts(name);
    return { repository: p.repositoryWithRegistry, tag: p.tagAtDigest };
  };
  return {
    name: 'metallb',
    namespace: ns,
    // The speaker needs the host network and NET_RAW to answer ARP.
    podSecurity: 'privileged',
    summary: 'MetalLB controller and L2 speaker (LoadBalancer addresses on the node network)',
    helm: {
      chart: 'metallb',
      values: {
        controller: { image: img('metallb-controller'), labels: { app: 'metallb', tier: 'network' } },
        speaker: {
          image: img('metallb-speaker'),
          frr: { enabled: false },
          labels: { app: 'metallb', tier: 'network' },
        },
      },
    },
    providesCrds: [
      'ipaddresspools.metallb.io',
      'l2advertisements.metallb.io',
      'bgpadvertisements.metallb.io',
      'bgppeers.metallb.io',
      'bfdprofiles.metallb.io',
      'communities.metallb.io',
      'servicel2statuses.metallb.io',
      'servicebgpstatuses.metallb.io',
    ],
    objects: [],
    workloads: [
      {
        name: 'metallb-controller',
        kind: 'Deployment',
        source: 'chart',
        podLabels: labels('controller'),
        // Service metallb-webhook-service 443 → 9443
        ports: [
          { port: 9443, name: 'webhook-server' },
          { port: 7472, name: 'monitoring' },
        ],
      },
      {
        name: 'metallb-speaker',
        kind: 'DaemonSet',
        source: 'chart',
        podLabels: labels('speaker'),
        // memberlist between the speakers on the node addresses (host network, outside NetworkPolicies)
        ports: [
          { port: 7472, name: 'monitoring' },
          { port: 7946, name: 'memberlist-tcp' },
          { port: 7946, protocol: 'UDP', name: 'memberlist-udp' },
        ],
        hostNetwork: true,
      },
    ],
    flows: [
      toApiServer('metallb/metallb-controller', 'the controller assigns addresses to LoadBalancer Services'),
      fromNodes('metallb/metallb-controller', tcp(9443), 'the API server calls the validating webhook'),
    ],
  };
}
