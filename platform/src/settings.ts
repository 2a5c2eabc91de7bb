/**
 * Cluster facts the inventory does not carry because K3s fixes them, and where Argo CD finds
 * this repository. Changing K3s' CIDRs (`--cluster-cidr`, `--service-cidr`) means changing them here.
 */

/** K3s networking defaults (https://docs.k3s.io/cli/server#networking). */
export const cluster = {
  /** `--service-cidr` default. */
  serviceCidr: '10.43.0.0/16',
  /** `--cluster-cidr` default (pod addresses). */
  podCidr: '10.42.0.0/16',
  /** The `kubernetes.default` Service: first address of the service CIDR, port 443. */
  apiServerServiceIp: '10.43.0.1',
  /** Port the K3s API server listens on, on every server node. Pod traffic to 10.43.0.1:443 is DNAT'ed here. */
  apiServerPort: 6443,
  /** Labels of CoreDNS pods in kube-system (K3s ships CoreDNS with the upstream kube-dns labels). */
  dnsPodLabels: { 'k8s-app': 'kube-dns' },
} as const;

/** Where Argo CD reads deploy/ from: the in-cluster Gitea (seed: Argo CD never pulls from GitHub). */
export const gitops = {
  repoURL: 'http://gitea-http.gitea.svc.cluster.local:3000/lumen/lumen.git',
  targetRevision: 'main',
  /** Folder of the rendered manifests inside the repository. */
  deployPath: 'deploy',
  /** Argo CD project every Application belongs to. */
  project: 'lumen',
} as const;

/** Label every object rendered by lumen carries, so `kubectl get -l` finds them. */
export const managedByLabel = { 'app.kubernetes.io/managed-by': 'lumen' } as const;
