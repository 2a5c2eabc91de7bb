/**
 * Building blocks of the pod specs lumen writes itself (lumen-api, Redis, Sentinel, act_runner):
 * the Pod Security "restricted" profile and the labels every workload carries.
 */

/** Container securityContext satisfying Pod Security "restricted" with a read-only root filesystem. */
export function restrictedContainer(uid: number) {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    seccompProfile: { type: 'RuntimeDefault' as const },
  };
}

/** Pod securityContext for "restricted" namespaces. `fsGroup` makes volumes writable by `uid`. */
export function restrictedPod(uid: number) {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: 'RuntimeDefault' as const },
  };
}

/**
 * Labels of a workload's pods: `app` and `tier` (required by the Gatekeeper policy) plus the
 * recommended `app.kubernetes.io/*` ones.
 */
export function workloadLabels(app: string, tier: string, partOf = 'lumen'): Record<string, string> {
  return {
    app,
    tier,
    'app.kubernetes.io/name': app,
    'app.kubernetes.io/part-of': partOf,
  };
}

/** Selector labels: the stable subset of {@link workloadLabels} (selectors are immutable). */
export function selectorLabels(app: string): Record<string, string> {
  return { app, 'app.kubernetes.io/name': app };
}
