/** Constructors for {@link Flow}s, so component modules read as a list of connections. */
import type { Flow, PortSpec } from '../engine/types.ts';

/** TCP ports. */
export function tcp(...ports: number[]): PortSpec[] {
  return ports.map((port) => ({ port, protocol: 'TCP' as const }));
}

/** A connection from `from` to `to` on `ports`, with the reason it exists. */
export function flow(from: string, to: string, ports: PortSpec[], why: string): Flow {
  return { from, to, ports, why };
}

/** The Kubernetes API server: through the `kubernetes` Service (443) and, after DNAT, the server nodes (6443). */
export function toApiServer(from: string, why: string): Flow {
  return flow(from, '@kube-apiserver', tcp(443, 6443), why);
}

/** Admission webhooks and metrics scrapes reach pods from the API server / kubelet on the nodes. */
export function fromNodes(to: string, ports: PortSpec[], why: string): Flow {
  return flow('@nodes', to, ports, why);
}

/** Port of the airgap registry `host[:port]` (443 without one). */
export function registryPort(registry: string): number {
  const m = /:(\d+)$/.exec(registry);
  return m ? Number(m[1]) : 443;
}

/** The airgap registry (images and Helm charts as OCI artifacts). */
export function toRegistry(from: string, registry: string, why: string): Flow {
  return flow(from, '@registry', tcp(registryPort(registry)), why);
}
