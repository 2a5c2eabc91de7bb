/**
 * @lumen/check — offline proofs of the rendered platform: schema, admission (Gatekeeper's gator),
 * Pod Security, NetworkPolicy reachability, consistency. See docs/check.md.
 */

export type { ChartSource } from './charts.ts';
export { builtinRules, type CheckOptions, type CheckResult, proveAll, runCheck } from './check.ts';
export { buildCluster, type Cluster, type Workload } from './cluster.ts';
export { findEngine } from './engines.ts';
export { CheckError, CheckErrorCode, type CheckErrorCodeValue } from './errors.ts';
export { loadManifests, parseManifests } from './manifests.ts';
export { connection, type Peer, type Verdict } from './network.ts';
export { formatCharts, formatJson, formatServer, formatSummary, formatViolation } from './report.ts';
export { checkAdmission } from './rules/admission.ts';
export { checkImages } from './rules/image-pinned.ts';
export { type ProofContext, type Rule, rules } from './rules/index.ts';
export { checkNetwork, networkContext, outsider, reach } from './rules/network.ts';
export { checkSecrets } from './rules/plaintext-secret.ts';
export { checkPodSecurity, type Level, podSecurityViolations } from './rules/pod-security.ts';
export { checkScheduling } from './rules/scheduling.ts';
export { checkSchema, prepareSchemas } from './rules/schema.ts';
export { checkSelectors } from './rules/selector.ts';
export { checkSyncWaves } from './rules/sync-wave.ts';
export { ApiClient, proveOnServer, type ServerStage } from './server.ts';
export type {
  ComponentFacts,
  ExternalWorkload,
  InventoryView,
  K8sObject,
  NetworkMatrix,
  PlatformFacts,
  RuleId,
  SourcedObject,
  Violation,
  WorkloadPort,
} from './types.ts';
