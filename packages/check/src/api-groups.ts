/** Kubernetes API groups whose objects the `kubernetes-models` package validates. */
export const kubernetesModelGroups: ReadonlySet<string> = new Set([
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'scheduling.k8s.io',
  'coordination.k8s.io',
  'node.k8s.io',
  'discovery.k8s.io',
]);

/** API groups served by Kubernetes itself or by K3s out of the box: no CRD needed. */
export const builtinGroups: ReadonlySet<string> = new Set([
  ...kubernetesModelGroups,
  'apiregistration.k8s.io',
  'certificates.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'helm.cattle.io',
  'k3s.cattle.io',
]);
