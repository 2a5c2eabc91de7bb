/**
 * The one registry of lumen's proofs: each rule of `lumen check` (docs/check.md, "The rules") with
 * the function that proves it. `proveAll` runs them in this order; a new rule is one line here and
 * one file beside this one. The chart stage (charts.ts) and the server stage (server.ts) are stages,
 * not rules: they add objects and replace verdicts.
 */
import type { Cluster } from '../cluster.ts';
import type { InventoryView, NetworkMatrix, SourcedObject, Violation } from '../types.ts';
import { checkAdmission } from './admission.ts';
import { checkImages } from './image-pinned.ts';
import { checkNetwork } from './network.ts';
import { checkSecrets } from './plaintext-secret.ts';
import { checkPodSecurity } from './pod-security.ts';
import { checkScheduling } from './scheduling.ts';
import { checkSchema } from './schema.ts';
import { checkSelectors } from './selector.ts';
import { checkSyncWaves } from './sync-wave.ts';

/** What every rule may read. */
export interface ProofContext {
  objects: readonly SourcedObject[];
  cluster: Cluster;
  inventory: InventoryView;
  matrix: NetworkMatrix;
  /** Where the matrix is declared, for messages. */
  matrixFile: string;
}

export interface Rule {
  /** The rule id of its violations (`admission` stands for `admission/<Kind>`, one per Constraint kind). */
  id: 'admission' | Exclude<Violation['rule'], `admission/${string}`>;
  prove(context: ProofContext): Violation[] | Promise<Violation[]>;
}

export const rules: readonly Rule[] = [
  { id: 'schema', prove: (c) => checkSchema(c.objects) },
  { id: 'admission', prove: (c) => checkAdmission(c.cluster) },
  { id: 'pod-security', prove: (c) => checkPodSecurity(c.cluster) },
  { id: 'network', prove: (c) => checkNetwork(c.cluster, c.matrix, c.matrixFile) },
  { id: 'selector', prove: (c) => checkSelectors(c.cluster) },
  { id: 'sync-wave', prove: (c) => checkSyncWaves(c.cluster) },
  { id: 'plaintext-secret', prove: (c) => checkSecrets(c.cluster) },
  { id: 'image-pinned', prove: (c) => checkImages(c.cluster, c.inventory) },
  { id: 'scheduling', prove: (c) => checkScheduling(c.cluster, c.inventory) },
];
