/**
 * Gatekeeper's ConstraintTemplates (written for the CEL engine by the check helper in
 * platform/src/policy/admission.ts). Each creates one constraint CRD, which gatekeeper-constraints uses:
 * this is why templates and constraints are separate Applications in successive waves.
 */
import type { Context } from '../engine/context.ts';
import { crdsOfConstraintTemplates } from '../engine/crds.ts';
import { plain } from '../engine/serialize.ts';
import type { Component } from '../engine/types.ts';
import { constraintTemplates } from '../policy/admission.ts';

const ns = 'gatekeeper-system';

export function gatekeeperTemplates(_ctx: Context): Component {
  const objects = constraintTemplates.map(plain);
  return {
    name: 'gatekeeper-templates',
    namespace: ns,
    podSecurity: 'baseline',
    summary:
      'Gatekeeper ConstraintTemplates (CEL): airgap registry only, tagged and not :latest, requests+limits, labels app+tier',
    providesCrds: crdsOfConstraintTemplates(objects),
    objects,
    workloads: [],
    flows: [],
  };
}
