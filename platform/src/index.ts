/**
 * @lumen/platform — every Kubernetes object of the platform as typed TypeScript, rendered to
 * deploy/ for Argo CD. See docs/platform.md.
 */

export { externalPeers, flowPolicies, namespaceBaseline, resolveEndpoint } from './blocks/network.ts';
export { bootstrapDns } from './bootstrap/dns.ts';
export {
  type BootstrapHelmChart,
  bootstrapHelmChart,
  chartSourceOf,
  helmChartFor,
  k3sManifestsDir,
} from './bootstrap/helmchart.ts';
export { type RegistryArtifact, registryContents } from './bootstrap/registry-contents.ts';
export { type ComponentModule, componentModules } from './components/index.ts';
export { type ChartSource, type Context, createContext, type ImageParts } from './engine/context.ts';
export { crdOf } from './engine/crds.ts';
export { diffDeploy, writeDeploy } from './engine/deploy-dir.ts';
export { PlatformError, PlatformErrorCode, type PlatformErrorCodeValue } from './engine/errors.ts';
export { type ModelComponent, type PlatformModel, platformModel } from './engine/model.ts';
export { type BumpOptions, bumpRelease, type CommitOptions, commitRelease } from './engine/release.ts';
export {
  type Rendered,
  type RenderedComponent,
  type RenderOptions,
  readCosignPublicKey,
  render,
} from './engine/render.ts';
export { sortKeys, toYaml } from './engine/serialize.ts';
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
} from './engine/types.ts';
export { problemsOf, validateObjects } from './engine/validate.ts';
export { computeWaves } from './engine/waves.ts';
export { allowedNetworks, dropCounters, firewallTable, nodeFirewall } from './nodes/firewall.ts';
export {
  analysisTemplateName,
  canaryGate,
  canaryHashArg,
  canaryQuery,
  failureCondition,
  successCondition,
} from './observability/canary-analysis.ts';
export { dashboardQueries, lumenApiDashboard } from './observability/dashboard.ts';
export {
  apiMatchers,
  apiNamespace,
  errorRatio,
  metricsServiceName,
  podTemplateHashLabel,
  probeRoutes,
} from './observability/promql.ts';
export { errorBudget, ratioRecord, slo, sloRuleGroups, windows } from './observability/slo-rules.ts';
export { k3sBuiltinWorkloads, networkMatrix } from './policy/network-matrix.ts';
export { checkInputs, factsFromModel, type PlatformInputs } from './proof/inputs.ts';
export { ansibleInventory } from './provisioning/ansible-inventory.ts';
export { k3sConfig, k3sDisabled, k3sTokenFile } from './provisioning/k3s-config.ts';
export {
  type BundleBlobs,
  type CarriedFile,
  type NodeFile,
  type NodeFileSet,
  type NodeFiles,
  type NodeFilesOptions,
  nodeArch,
  nodeFileSets,
  nodeFiles,
} from './provisioning/node-files.ts';
export { cluster, gitops } from './settings.ts';
