/**
 * Pod Security Standards (https://kubernetes.io/docs/concepts/security/pod-security-standards/):
 * every pod spec — Pods and every pod-template kind — against the `enforce` level of its
 * namespace, control by control as the PodSecurity admission plugin (policy version latest)
 * applies them. Reasons name the control so a reader can look it up.
 */
import { type Cluster, namespaceOf } from '../cluster.ts';
import { objectId } from '../manifests.ts';
import { allContainers, type PodSpec, podOf } from '../pod-spec.ts';
import type { Violation } from '../types.ts';

export type Level = 'privileged' | 'baseline' | 'restricted';

const levelLabel = 'pod-security.kubernetes.io/enforce';

/** Capabilities baseline allows to be added (the container runtime defaults minus NET_RAW). */
const baselineCapabilities = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/** Namespaced ("safe") sysctls baseline allows. */
const safeSysctls = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);

const seLinuxTypes = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

/** Volume types restricted allows; everything else (hostPath, nfs, …) is refused. */
const restrictedVolumes = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

type Ctx = Record<string, unknown> | undefined;

function ctxOf(value: unknown): Ctx {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}

function sub(ctx: Ctx, key: string): Ctx {
  return ctxOf(ctx?.[key]);
}

/** Baseline controls. Each entry is `control: detail`. */
function baseline(spec: PodSpec, annotations: Record<string, string>): string[] {
  const out: string[] = [];
  const pod = ctxOf(spec.securityContext);
  const containers = allContainers(spec);
  const where = (list: string, name: unknown) => `${list}[${String(name ?? '?')}]`;

  if (sub(pod, 'windowsOptions')?.hostProcess === true)
    out.push('HostProcess: spec.securityContext.windowsOptions.hostProcess');
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[field] === true) out.push(`Host Namespaces: spec.${field} must not be true`);
  }
  for (const v of spec.volumes ?? []) {
    if (v.hostPath !== undefined) out.push(`HostPath Volumes: volume ${String(v.name)} uses hostPath`);
  }
  const sysctls = (pod?.sysctls ?? []) as Array<{ name?: string }>;
  for (const s of sysctls) {
    if (!safeSysctls.has(s.name ?? '')) out.push(`Sysctls: ${s.name} is not a safe sysctl`);
  }
  const checkSeccomp = (ctx: Ctx, at: string) => {
    if (sub(ctx, 'seccompProfile')?.type === 'Unconfined') out.push(`Seccomp: ${at}.seccompProfile.type Unconfined`);
  };
  const checkSeLinux = (ctx: Ctx, at: string) => {
    const se = sub(ctx, 'seLinuxOptions');
    if (!se) return;
    if (!seLinuxTypes.has(String(se.type ?? ''))) out.push(`SELinux: ${at}.seLinuxOptions.type ${String(se.type)}`);
    if (se.user !== undefined && se.user !== '') out.push(`SELinux: ${at}.seLinuxOptions.user must not be set`);
    if (se.role !== undefined && se.role !== '') out.push(`SELinux: ${at}.seLinuxOptions.role must not be set`);
  };
  const checkAppArmor = (ctx: Ctx, at: string) => {
    const t = sub(ctx, 'appArmorProfile')?.type;
    if (t !== undefined && t !== 'RuntimeDefault' && t !== 'Localhost')
      out.push(`AppArmor: ${at}.appArmorProfile.type ${String(t)}`);
  };
  checkSeccomp(pod, 'spec.securityContext');
  checkSeLinux(pod, 'spec.securityContext');
  checkAppArmor(pod, 'spec.securityContext');
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith('container.apparmor.security.beta.kubernetes.io/')) {
      if (value !== 'runtime/default' && !value.startsWith('localhost/'))
        out.push(`AppArmor: annotation ${key}=${value}`);
    }
  }
  for (const { list, container } of containers) {
    const ctx = ctxOf(container.securityContext);
    const at = where(list, container.name);
    if (sub(ctx, 'windowsOptions')?.hostProcess === true) out.push(`HostProcess: ${at} windowsOptions.hostProcess`);
    if (ctx?.privileged === true) out.push(`Privileged Containers: ${at} securityContext.privileged must not be true`);
    const add = (sub(ctx, 'capabilities')?.add ?? []) as string[];
    for (const cap of add) {
      if (!baselineCapabilities.has(cap)) out.push(`Capabilities: ${at} adds ${cap}`);
    }
    for (const p of container.ports ?? []) {
      if (p.hostPort !== undefined && p.hostPort !== 0) out.push(`Host Ports: ${at} uses hostPort ${p.hostPort}`);
    }
    if (ctx?.procMount !== undefined && ctx.procMount !== 'Default')
      out.push(`/proc Mount Type: ${at} procMount ${String(ctx.procMount)}`);
    checkSeccomp(ctx, `${at}.securityContext`);
    checkSeLinux(ctx, `${at}.securityContext`);
    checkAppArmor(ctx, `${at}.securityContext`);
  }
  return out;
}

/** Restricted controls on top of baseline. */
function restricted(spec: PodSpec): string[] {
  const out: string[] = [];
  const pod = ctxOf(spec.securityContext);
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (type !== undefined && !restrictedVolumes.has(type))
      out.push(`Volume Types: volume ${String(v.name)} is ${type}`);
  }
  const podNonRoot = pod?.runAsNonRoot === true;
  const podSeccomp = sub(pod, 'seccompProfile')?.type;
  if (pod?.runAsUser === 0) out.push('Running as Non-root user: spec.securityContext.runAsUser is 0');
  for (const { list, container } of allContainers(spec)) {
    const ctx = ctxOf(container.securityContext);
    const at = `${list}[${String(container.name ?? '?')}]`;
    if (ctx?.allowPrivilegeEscalation !== false) {
      out.push(`Privilege Escalation: ${at} must set securityContext.allowPrivilegeEscalation=false`);
    }
    if (ctx?.runAsNonRoot === false || (!podNonRoot && ctx?.runAsNonRoot !== true)) {
      out.push(`Running as Non-root: ${at} must run with runAsNonRoot=true (pod or container)`);
    }
    if (ctx?.runAsUser === 0) out.push(`Running as Non-root user: ${at} runAsUser is 0`);
    const seccomp = sub(ctx, 'seccompProfile')?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
      out.push(`Seccomp: ${at} needs seccompProfile RuntimeDefault or Localhost (pod or container)`);
    }
    const caps = sub(ctx, 'capabilities');
    const drop = (caps?.drop ?? []) as string[];
    if (!drop.includes('ALL')) out.push(`Capabilities: ${at} must drop ALL`);
    for (const cap of (caps?.add ?? []) as string[]) {
      if (cap !== 'NET_BIND_SERVICE') out.push(`Capabilities: ${at} may add only NET_BIND_SERVICE, not ${cap}`);
    }
  }
  return out;
}

/** The violations of one pod spec at a level (empty for privileged). */
export function podSecurityViolations(spec: PodSpec, annotations: Record<string, string>, level: Level): string[] {
  if (level === 'privileged') return [];
  const found = baseline(spec, annotations);
  if (level === 'restricted') found.push(...restricted(spec));
  return found;
}

function isLevel(value: unknown): value is Level {
  return value === 'privileged' || value === 'baseline' || value === 'restricted';
}

/**
 * Every namespace must state its enforce level (lumen gives each component one), and every
 * pod spec must meet the level of the namespace it lands in.
 */
export function checkPodSecurity(cluster: Cluster): Violation[] {
  const out: Violation[] = [];
  for (const [name, ns] of cluster.namespaces) {
    if (!ns.source) continue;
    if (!isLevel(ns.labels[levelLabel])) {
      out.push({
        file: ns.source.file,
        ...objectId(ns.source.obj),
        rule: 'pod-security',
        reason: `namespace ${name} must set ${levelLabel} to privileged, baseline or restricted`,
      });
    }
  }
  for (const src of cluster.objects) {
    const pod = podOf(src.obj);
    if (!pod) continue;
    const ns = namespaceOf(src.obj) ?? 'default';
    const level = cluster.namespaces.get(ns)?.labels[levelLabel];
    const id = { file: src.file, ...objectId(src.obj), rule: 'pod-security' as const };
    if (!cluster.namespaces.get(ns)?.source) {
      out.push({ ...id, reason: `namespace ${ns} is not rendered, so its Pod Security level is unknown` });
      continue;
    }
    if (!isLevel(level)) continue; // reported on the namespace itself
    for (const reason of podSecurityViolations(pod.spec, pod.annotations, level)) {
      out.push({ ...id, reason: `${level}: ${reason}` });
    }
  }
  return out;
}
