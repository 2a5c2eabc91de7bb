/** MetalLB's address pool from the site (`metallbPool`), announced over L2 — after the chart that provides the CRDs. */
import type { Context } from '../engine/context.ts';
import { ipAddressPool, l2Advertisement } from '../engine/crd-types.ts';
import type { Component } from '../engine/types.ts';

const ns = 'metallb-system';

export function metallbConfig(ctx: Context): Component {
  return {
    name: 'metallb-config',
    namespace: ns,
    podSecurity: 'privileged',
    summary: `MetalLB IPAddressPool ${ctx.site.metallbPool} announced over L2`,
    providesCrds: [],
    objects: [
      ipAddressPool({ name: 'default', namespace: ns }, { addresses: [ctx.site.metallbPool], autoAssign: true }),
      l2Advertisement({ name: 'default', namespace: ns }, { ipAddressPools: ['default'] }),
    ],
    workloads: [],
    flows: [],
  };
}
