/** Gatekeeper Constraints instantiating the templates for this site (its registry), from platform/src/policies/. */
import type { Context } from '../engine/context.ts';
import { plain } from '../engine/serialize.ts';
import type { Component } from '../engine/types.ts';
import { constraints } from '../policy/admission.ts';

const ns = 'gatekeeper-system';

export function gatekeeperConstraints(ctx: Context): Component {
  return {
    name: 'gatekeeper-constraints',
    namespace: ns,
    podSecurity: 'baseline',
    summary: 'Gatekeeper Constraints for Pods and every pod-template kind (Rollouts included)',
    providesCrds: [],
    objects: constraints({ registry: ctx.site.registry }).map(plain),
    workloads: [],
    flows: [],
  };
}
