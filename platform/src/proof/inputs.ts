/**
 * What `lumen check` reads besides deploy/: the inventory, the platform model (components,
 * waves, CRDs, Helm-chart workloads) and the expected network matrix, all from the repository.
 * The platform hands them to @lumen/check, which never imports the platform.
 */
import type { InventoryView, NetworkMatrix, PlatformFacts } from '@lumen/check';
import { loadInventory } from '@lumen/inventory';
import { type PlatformModel, platformModel } from '../engine/model.ts';
import { k3sBuiltinWorkloads, networkMatrix } from '../policy/network-matrix.ts';

export interface PlatformInputs {
  inventory: InventoryView;
  facts: PlatformFacts;
  matrix: NetworkMatrix;
  matrixFile: string;
}

/** Where `lumen render` writes a component's objects. */
const componentDir = (name: string) => `deploy/components/${name}`;

/**
 * The facts the checks need, from the platform model: each component's wave, folder and CRDs,
 * and the pods its chart creates (which deploy/ cannot show, since charts render in the cluster).
 */
export function factsFromModel(model: PlatformModel): PlatformFacts {
  return {
    components: model.components.map((c) => ({
      name: c.name,
      namespace: c.namespace,
      wave: c.wave,
      path: componentDir(c.name),
      providesCrds: c.providesCrds,
      runtimePodLabels: c.runtimePodLabels,
      runtimeServices: c.runtimeServices,
      workloads: c.chartWorkloads.map((w) => ({
        name: w.name,
        namespace: c.namespace,
        podLabels: w.podLabels,
        ports: w.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' })),
        hostNetwork: w.hostNetwork === true,
        origin: w.source === 'operator' ? ('operator' as const) : ('chart' as const),
      })),
    })),
    builtinWorkloads: k3sBuiltinWorkloads,
  };
}

/** Loads the inventory, the platform facts and the matrix of this repository. */
export async function checkInputs(inventoryDir?: string): Promise<PlatformInputs> {
  const inventory = inventoryDir === undefined ? loadInventory() : loadInventory(inventoryDir);
  return {
    inventory,
    facts: factsFromModel(platformModel(inventory)),
    matrix: networkMatrix(inventory),
    matrixFile: 'platform/src/policy/network-matrix.ts',
  };
}
