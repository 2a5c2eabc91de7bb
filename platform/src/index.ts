/**
 * @lumen/platform — every Kubernetes object of the platform as typed TypeScript, rendered to
 * deploy/ for Argo CD. See docs/platform.md.
 */
export {
  analysisTemplateName,
  canaryGate,
  canaryHashArg,
  canaryQuery,
  failureCondition,
  successCondition,
} from './canary-analysis.ts';
export { type ComponentModule, componentModules } from './components/index.ts';
export { type ChartSource, type Context, createContext, type ImageParts } from './context.ts';
export { crdOf } from './crds.ts';
export { dashboardQueries, lumenApiDashboard } from './dashboard.ts';
export { diffDeploy, writeDeploy } from './deploy-dir.ts';
export { PlatformError, PlatformErrorCode, type PlatformErrorCodeValue } from './errors.ts';
export { type ModelComponent, type PlatformModel, platformModel } from './model.ts';
export { externalPeers, flowPolicies, namespaceBaseline, resolveEndpoint } from './network.ts';
export { k3sBuiltinWorkloads, networkMatrix } from './network-matrix.ts';
export { allowedNetworks, dropCounters, firewallTable, nodeFirewall } from './node-firewall.ts';
export {
  apiMatchers,
  apiNamespace,
  errorRatio,
  metricsServiceName,
  podTemplateHashLabel,
  probeRoutes,
} from './promql.ts';
export { checkInputs, factsFromModel, type PlatformInputs } from './proof-inputs.ts';
export { type BumpOptions, bumpRelease } from './release.ts';
export { type Rendered, type RenderedComponent, type RenderOptions, readCosignPublicKey, render } from './render.ts';
export { sortKeys, toYaml } from './serialize.ts';
export { cluster, gitops } from './settings.ts';
export { errorBudget, ratioRecord, slo, sloRuleGroups, windows } from './slo-rules.ts';
export type {
  Component,
  Endpoint,
  Flow,
  HelmRelease,
  KubeObject,
  PodSecurityLevel,
  PortSpec,
  Workload,
  WorkloadKind,
} from './types.ts';
export { problemsOf, validateObjects } from './validate.ts';
export { computeWaves } from './waves.ts';
