/**
 * @lumen/check — offline proofs of the rendered platform: schema, admission (Gatekeeper's gator),
 * Pod Security, NetworkPolicy reachability, consistency. See docs/check.md.
 */
export { checkAdmission, gatorVersion } from './admission.ts';
export type { ChartSource } from './charts.ts';
export { builtinRules, type CheckOptions, type CheckResult, proveAll, runCheck } from './check.ts';
export { buildCluster, type Cluster, type Workload } from './cluster.ts';
export { airgapPath, checkImages, checkSecrets, checkSelectors, checkSyncWaves, parseImage } from './consistency.ts';
export { findEngine, toolsBin } from './engines.ts';
export { CheckError, CheckErrorCode, type CheckErrorCodeValue } from './errors.ts';
export { loadManifests, parseManifests } from './manifests.ts';
export { connection, type Peer, type Verdict } from './network.ts';
export { checkNetwork, networkContext, outsider, reach } from './network-check.ts';
export { checkPodSecurity, type Level, podSecurityViolations } from './pod-security.ts';
export { formatCharts, formatJson, formatServer, formatSummary, formatViolation } from './report.ts';
export { checkSchema, prepareSchemas } from './schema.ts';
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
