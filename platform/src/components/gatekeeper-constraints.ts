/** Gatekeeper Constraints instantiating the templates for this site (its registry), from platform/src/policies/. */
import type { Context } from '../context.ts';
import { constraints } from '../policies/index.ts';
import { plain } from '../serialize.ts';
import type { Component } from '../types.ts';

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
