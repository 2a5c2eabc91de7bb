/**
 * Consistency proofs: selectors select something real, custom resources come after their
 * CRDs, no plaintext secrets, every image is an inventory image pinned by digest.
 */

import { parse as parseYaml } from 'yaml';
import { builtinGroups } from './api-groups.ts';
import { type Cluster, namespaceOf, type Workload } from './cluster.ts';
import { apiGroup, objectId } from './manifests.ts';
import { allContainers, podOf } from './pod-spec.ts';
import { type LabelSelector, matchesMap, matchesSelector } from './selectors.ts';
import type { ComponentFacts, InventoryView, ServiceFact, SourcedObject, Violation } from './types.ts';

function v(src: SourcedObject, rule: Violation['rule'], reason: string): Violation {
  return { file: src.file, ...objectId(src.obj), rule, reason };
}

function workloadsIn(cluster: Cluster, ns: string): Workload[] {
  return cluster.workloads.filter((w) => w.namespace === ns);
}

function describe(selector: unknown): string {
  return JSON.stringify(selector);
}

/** Chaos Mesh kinds whose `spec.selector` picks target pods. */
const chaosKinds = new Set([
  'PodChaos',
  'NetworkChaos',
  'StressChaos',
  'IOChaos',
  'TimeChaos',
  'KernelChaos',
  'DNSChaos',
  'HTTPChaos',
  'JVMChaos',
]);

interface ChaosSelector {
  namespaces?: string[];
  labelSelectors?: Record<string, string>;
  expressionSelectors?: LabelSelector['matchExpressions'];
}

/** Pods a Chaos Mesh selector picks; without `namespaces` it targets its own namespace. */
function chaosTargets(cluster: Cluster, selector: ChaosSelector, ownNs: string): Workload[] {
  const namespaces = selector.namespaces && selector.namespaces.length > 0 ? selector.namespaces : [ownNs];
  const ls: LabelSelector = { matchLabels: selector.labelSelectors, matchExpressions: selector.expressionSelectors };
  return cluster.workloads.filter((w) => namespaces.includes(w.namespace) && matchesSelector(ls, w.podLabels));
}

/** The Service every Kubernetes cluster has for its API server (labels as the API server sets them). */
const kubernetesServices: ServiceFact[] = [
  { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
];

/** Every Service, NetworkPolicy, PDB, HPA, ServiceMonitor, PodMonitor and chaos experiment selects something. */
export function checkSelectors(cluster: Cluster): Violation[] {
  const out: Violation[] = [];
  const services = cluster.objects.filter((s) => s.obj.kind === 'Service' && s.obj.apiVersion === 'v1');
  // Services no render shows: Kubernetes' own and those controllers create at run time.
  const unrendered = [...kubernetesServices, ...cluster.facts.components.flatMap((c) => c.runtimeServices ?? [])];
  for (const src of cluster.objects) {
    const { obj } = src;
    const ns = namespaceOf(obj) ?? 'default';
    const spec = (obj.spec ?? {}) as Record<string, unknown>;
    const group = apiGroup(obj.apiVersion);
    const pods = () => workloadsIn(cluster, ns);
    if (obj.kind === 'Service' && group === '') {
      const selector = spec.selector as Record<string, string> | undefined;
      // A Service without selector has hand-made endpoints (or is ExternalName): nothing to select.
      if (!selector || Object.keys(selector).length === 0) continue;
      // Labels a controller adds at run time (Vault's vault-active) are on no rendered pod template.
      const runtime = new Set(
        cluster.facts.components.filter((c) => c.namespace === ns).flatMap((c) => c.runtimePodLabels ?? []),
      );
      const fixed = Object.fromEntries(Object.entries(selector).filter(([k]) => !runtime.has(k)));
      if (!pods().some((w) => matchesMap(fixed, w.podLabels))) {
        out.push(v(src, 'selector', `selector ${describe(selector)} matches no workload in namespace ${ns}`));
      }
    } else if (obj.kind === 'NetworkPolicy') {
      const selector = (spec.podSelector ?? {}) as LabelSelector;
      if (!pods().some((w) => matchesSelector(selector, w.podLabels))) {
        out.push(v(src, 'selector', `podSelector ${describe(selector)} matches no workload in namespace ${ns}`));
      }
    } else if (obj.kind === 'PodDisruptionBudget') {
      const selector = spec.selector as LabelSelector | undefined;
      if (!selector || !pods().some((w) => matchesSelector(selector, w.podLabels))) {
        out.push(v(src, 'selector', `selector ${describe(selector)} matches no workload in namespace ${ns}`));
      }
    } else if (obj.kind === 'HorizontalPodAutoscaler') {
      const ref = (spec.scaleTargetRef ?? {}) as { kind?: string; name?: string };
      if (!pods().some((w) => w.kind === ref.kind && w.name === ref.name)) {
        out.push(v(src, 'selector', `scaleTargetRef ${ref.kind}/${ref.name} is not a workload in namespace ${ns}`));
      }
    } else if (obj.kind === 'ServiceMonitor' && group === 'monitoring.coreos.com') {
      const selector = (spec.selector ?? {}) as LabelSelector;
      const nsSel = (spec.namespaceSelector ?? {}) as { any?: boolean; matchNames?: string[] };
      const inScopeNs = (sns: string) => {
        if (nsSel.any) return true;
        return nsSel.matchNames && nsSel.matchNames.length > 0 ? nsSel.matchNames.includes(sns) : sns === ns;
      };
      const inScope = (s: SourcedObject) => inScopeNs(namespaceOf(s.obj) ?? 'default');
      const hits = [
        ...services.filter((s) => inScope(s) && matchesSelector(selector, s.obj.metadata?.labels ?? {})),
        ...unrendered
          .filter((s) => inScopeNs(s.namespace) && matchesSelector(selector, s.labels))
          .map((s) => ({ obj: { metadata: { name: s.name, namespace: s.namespace } } }) as SourcedObject),
      ];
      // Each matched Service is one more scrape of the same pods: the public implementation
      // matched three and scraped every pod three times.
      if (hits.length !== 1) {
        const names = hits.map((s) => `${namespaceOf(s.obj)}/${s.obj.metadata?.name}`).join(', ');
        out.push(
          v(src, 'selector', `must select exactly one Service, selects ${hits.length}${names ? ` (${names})` : ''}`),
        );
      }
    } else if (obj.kind === 'PodMonitor' && group === 'monitoring.coreos.com') {
      const selector = (spec.selector ?? {}) as LabelSelector;
      if (!pods().some((w) => matchesSelector(selector, w.podLabels))) {
        out.push(v(src, 'selector', `selector ${describe(selector)} matches no workload in namespace ${ns}`));
      }
    } else if (group === 'chaos-mesh.org' && chaosKinds.has(obj.kind ?? '')) {
      const selector = (spec.selector ?? {}) as ChaosSelector;
      if (chaosTargets(cluster, selector, ns).length === 0) {
        const where = selector.namespaces?.length ? selector.namespaces.join(', ') : ns;
        out.push(v(src, 'selector', `selector ${describe(selector)} matches no workload in namespace ${where}`));
      }
      const target = (spec.target as { selector?: ChaosSelector } | undefined)?.selector;
      if (target && chaosTargets(cluster, target, ns).length === 0) {
        out.push(v(src, 'selector', `target.selector ${describe(target)} matches no workload`));
      }
    }
  }
  return out;
}

/** Argo CD is installed by the bootstrap (Ansible) before anything in deploy/ syncs. */
const bootstrapCrds = new Set(['argoproj.io/Application', 'argoproj.io/AppProject', 'argoproj.io/ApplicationSet']);

const waveAnnotation = 'argocd.argoproj.io/sync-wave';

interface Position {
  component?: string | undefined;
  wave: number;
  /** Resource-level wave inside the component. */
  sub: number;
}

function annotationWave(src: SourcedObject): number | undefined {
  const text = src.obj.metadata?.annotations?.[waveAnnotation];
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** The Argo CD components: from the platform facts, completed by the rendered Applications. */
function components(cluster: Cluster): ComponentFacts[] {
  const list = [...cluster.facts.components];
  for (const src of cluster.objects) {
    if (src.obj.kind !== 'Application' || apiGroup(src.obj.apiVersion) !== 'argoproj.io') continue;
    const name = src.obj.metadata?.name ?? '?';
    if (list.some((c) => c.name === name)) continue;
    const spec = (src.obj.spec ?? {}) as { source?: { path?: string }; destination?: { namespace?: string } };
    list.push({
      name,
      namespace: spec.destination?.namespace ?? 'default',
      wave: annotationWave(src) ?? 0,
      path: spec.source?.path,
    });
  }
  return list;
}

function componentOf(file: string, list: ComponentFacts[]): ComponentFacts | undefined {
  const norm = file.replaceAll('\\', '/');
  let best: ComponentFacts | undefined;
  for (const c of list) {
    if (!c.path) continue;
    const p = c.path.replace(/\/+$/, '');
    if ((norm.startsWith(`${p}/`) || norm.includes(`/${p}/`)) && (!best || p.length > (best.path ?? '').length))
      best = c;
  }
  return best;
}

/**
 * CRDs are named either `group/Kind` or, as Kubernetes names them, `<plural>.<group>`
 * (`rollouts.argoproj.io`); both are accepted and looked up in either form.
 */
function crdKey(crd: string): string {
  return crd.includes('/') ? crd : crd.toLowerCase();
}

/** The plural forms a kind's CRD may use (`Rollout` → rollouts, `PodChaos` → podchaos, `Policy` → policies). */
function pluralsOf(kind: string): string[] {
  const k = kind.toLowerCase();
  return [k, `${k}s`, `${k}es`, k.endsWith('y') ? `${k.slice(0, -1)}ies` : `${k}s`];
}

/**
 * Every custom resource's CRD is provided by a component in an EARLIER sync wave (or, for CRDs
 * rendered in the same component, by an earlier resource wave). Objects outside every
 * component (an admission dry run) sync at their own annotated wave, else after the platform.
 */
export function checkSyncWaves(cluster: Cluster): Violation[] {
  const out: Violation[] = [];
  const list = components(cluster);
  const position = (src: SourcedObject): Position => {
    // A rendered chart's objects belong to the component whose Application names the chart.
    const c = src.component ? list.find((x) => x.name === src.component) : componentOf(src.file, list);
    if (c) return { component: c.name, wave: c.wave, sub: annotationWave(src) ?? 0 };
    return { wave: annotationWave(src) ?? Number.POSITIVE_INFINITY, sub: 0 };
  };
  const providers = new Map<string, Array<Position & { by: string; crd?: boolean }>>();
  const add = (crd: string, p: Position & { by: string; crd?: boolean }) => {
    const l = providers.get(crd) ?? [];
    l.push(p);
    providers.set(crd, l);
  };
  for (const c of list) {
    // A chart's CRDs exist only once its component has synced: count them at the end of its wave.
    for (const crd of c.providesCrds ?? [])
      add(crdKey(crd), { component: c.name, wave: c.wave, sub: Number.POSITIVE_INFINITY, by: `component ${c.name}` });
  }
  for (const src of cluster.objects) {
    const { obj } = src;
    if (obj.kind === 'CustomResourceDefinition') {
      const spec = (obj.spec ?? {}) as { group?: string; names?: { kind?: string } };
      add(crdKey(`${spec.group}/${spec.names?.kind}`), {
        ...position(src),
        by: `CRD ${obj.metadata?.name}`,
        crd: true,
      });
    } else if (obj.kind === 'ConstraintTemplate' && apiGroup(obj.apiVersion) === 'templates.gatekeeper.sh') {
      const kind = (obj.spec as { crd?: { spec?: { names?: { kind?: string } } } } | undefined)?.crd?.spec?.names?.kind;
      add(`constraints.gatekeeper.sh/${kind}`, { ...position(src), by: `ConstraintTemplate ${obj.metadata?.name}` });
    }
  }
  for (const src of cluster.objects) {
    const group = apiGroup(src.obj.apiVersion);
    if (builtinGroups.has(group)) continue;
    const crd = `${group}/${src.obj.kind}`;
    if (bootstrapCrds.has(crd)) continue;
    const me = position(src);
    const found = [crd, ...pluralsOf(src.obj.kind ?? '').map((p) => `${p}.${group}`)].flatMap(
      (k) => providers.get(k) ?? [],
    );
    if (found.length === 0) {
      out.push(v(src, 'sync-wave', `no component provides the CRD ${crd}`));
      continue;
    }
    const before = found.some(
      (p) =>
        p.wave < me.wave ||
        (p.wave === me.wave &&
          p.component !== undefined &&
          p.component === me.component &&
          // Within one resource wave Argo CD applies CRDs before the other kinds (and skips the dry run of
          // custom resources whose CRD is in the same sync); a ConstraintTemplate's CRD is made later by Gatekeeper.
          (p.sub < me.sub || (p.crd === true && p.sub === me.sub))),
    );
    if (!before) {
      const first = found[0] as Position & { by: string };
      const mine = Number.isFinite(me.wave) ? `wave ${me.wave}` : 'the end';
      out.push(
        v(src, 'sync-wave', `synced at ${mine} but its CRD ${crd} comes from ${first.by} in wave ${first.wave}`),
      );
    }
  }
  return out;
}

/** Names of keys and variables that hold secrets. */
const secretName =
  /(password|passwd|passphrase|token|api[-_]?key|private[-_]?key|client[-_]?secret|credentials?|^secret)$/i;
/** `scheme://user:password@host` carries a password in plain text. */
const urlWithPassword = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;
const pemPrivateKey = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

function isLiteral(value: unknown): boolean {
  if (typeof value !== 'string') return typeof value === 'number';
  // Empty values and references resolved elsewhere ($(VAR), ${VAR}, vault paths) are not secrets.
  return value.trim() !== '' && !/^\$[({]/.test(value) && !value.startsWith('vault:') && !value.startsWith('<path:');
}

/** Walks Helm values (or any tree) for secret-named keys holding literals. */
function secretsInTree(tree: unknown, path: string, found: string[]): void {
  if (Array.isArray(tree)) {
    for (const [i, item] of tree.entries()) secretsInTree(item, `${path}[${i}]`, found);
  } else if (tree !== null && typeof tree === 'object') {
    for (const [k, val] of Object.entries(tree)) {
      const at = path ? `${path}.${k}` : k;
      if (secretName.test(k) && isLiteral(val)) found.push(`${at} holds a literal secret`);
      else secretsInTree(val, at, found);
    }
  } else if (typeof tree === 'string') {
    if (urlWithPassword.test(tree)) found.push(`${path} holds a URL with a password`);
    else if (pemPrivateKey.test(tree)) found.push(`${path} holds a private key`);
  }
}

/** `NAME=value`, `name = value` and `name: value` lines of config text that give a secret-named key a literal. */
function literalAssignments(text: string, at: string): string[] {
  const out: string[] = [];
  if (pemPrivateKey.test(text)) out.push(`${at} holds a private key`);
  if (urlWithPassword.test(text)) out.push(`${at} holds a URL with a password`);
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][\w.-]*)\s*[=:]\s*(.*?)\s*$/.exec(line);
    if (!m?.[1]) continue;
    const value = (m[2] ?? '').replace(/^(["'])(.*)\1$/, '$2');
    if (secretName.test(m[1]) && isLiteral(value)) out.push(`${at} sets ${m[1]} to a literal`);
  }
  return out;
}

/**
 * Argo CD reads repositories and clusters only from Secrets labelled
 * `argocd.argoproj.io/secret-type`; one that holds no credential key (url, name, type, OCI
 * flags) declares where to read from and is not a secret. Credentials make it one again.
 */
const argoCredentialKeys = new Set([
  'username',
  'password',
  'sshPrivateKey',
  'tlsClientCertData',
  'tlsClientCertKey',
  'githubAppPrivateKey',
  'githubAppID',
  'githubAppInstallationID',
  'bearerToken',
  'config',
  'gcpServiceAccountKey',
]);

function isArgoDeclaration(
  labels: Record<string, string> | undefined,
  data: Record<string, unknown> | undefined,
): boolean {
  if (labels?.['argocd.argoproj.io/secret-type'] === undefined || !data) return false;
  return Object.keys(data).every((k) => !argoCredentialKeys.has(k));
}

/** No plaintext secret: Secret data, secret-named env values, Helm values, URLs with passwords, PEM keys. */
export function checkSecrets(cluster: Cluster): Violation[] {
  const out: Violation[] = [];
  for (const src of cluster.objects) {
    const { obj } = src;
    const found: string[] = [];
    if (obj.kind === 'Secret' && obj.apiVersion === 'v1' && src.chart) {
      // A chart builds Secrets from its templates and the Application's values (proven above, at the
      // Application): what matters is whether the result holds a literal secret, not that it has data.
      for (const field of ['data', 'stringData'] as const) {
        const data = (obj[field] ?? {}) as Record<string, unknown>;
        for (const [k, raw] of Object.entries(data)) {
          const text = field === 'data' && typeof raw === 'string' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
          const at = `${field}.${k}`;
          if (secretName.test(k) && isLiteral(text)) found.push(`${at} holds a literal secret (the chart's default?)`);
          else if (typeof text === 'string') found.push(...literalAssignments(text, at));
        }
      }
    } else if (obj.kind === 'Secret' && obj.apiVersion === 'v1') {
      for (const field of ['data', 'stringData'] as const) {
        const data = obj[field] as Record<string, unknown> | undefined;
        if (isArgoDeclaration(obj.metadata?.labels, data)) continue;
        if (data && Object.keys(data).length > 0) {
          found.push(
            `${field} holds ${Object.keys(data).join(', ')}: secrets come from Vault (VaultStaticSecret), never from Git`,
          );
        }
      }
    }
    const pod = podOf(obj);
    if (pod) {
      for (const { list, container } of allContainers(pod.spec)) {
        for (const env of container.env ?? []) {
          const at = `${list}[${container.name}].env.${env.name}`;
          if (env.value === undefined) continue;
          if (secretName.test(env.name ?? '') && isLiteral(env.value))
            found.push(`${at} holds a literal secret (use valueFrom.secretKeyRef)`);
          else if (typeof env.value === 'string' && urlWithPassword.test(env.value))
            found.push(`${at} holds a URL with a password`);
        }
      }
    }
    if (obj.kind === 'Application' && apiGroup(obj.apiVersion) === 'argoproj.io') {
      const spec = (obj.spec ?? {}) as { source?: unknown; sources?: unknown[] };
      for (const [i, source] of [spec.source, ...(spec.sources ?? [])].entries()) {
        const helm = (
          source as
            | {
                helm?: {
                  values?: string;
                  valuesObject?: unknown;
                  parameters?: Array<{ name?: string; value?: unknown }>;
                };
              }
            | undefined
        )?.helm;
        if (!helm) continue;
        const at = i === 0 ? 'helm' : `sources[${i - 1}].helm`;
        if (typeof helm.values === 'string') {
          try {
            secretsInTree(parseYaml(helm.values), `${at}.values`, found);
          } catch {
            found.push(`${at}.values is not valid YAML`);
          }
        }
        secretsInTree(helm.valuesObject, `${at}.valuesObject`, found);
        for (const p of helm.parameters ?? []) {
          const last = (p.name ?? '').split('.').pop() ?? '';
          if (secretName.test(last) && isLiteral(p.value))
            found.push(`${at}.parameters ${p.name} holds a literal secret`);
        }
      }
    }
    if (obj.kind === 'ConfigMap' && obj.apiVersion === 'v1') secretsInTree(obj.data, 'data', found);
    for (const reason of found) out.push(v(src, 'plaintext-secret', reason));
  }
  return out;
}

/** The airgap path of an upstream source: its path without the upstream host. */
export function airgapPath(source: string): string {
  const [first, ...rest] = source.split('/');
  const isHost =
    first !== undefined && rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  return isHost ? rest.join('/') : source;
}

/** Splits `host:port/path:tag@sha256:…` into registry host, path, tag and digest. */
export function parseImage(ref: string): { host?: string; path: string; tag?: string; digest?: string } {
  const at = ref.indexOf('@');
  const name = at < 0 ? ref : ref.slice(0, at);
  const digest = at < 0 ? undefined : ref.slice(at + 1);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  const tag = colon > slash ? name.slice(colon + 1) : undefined;
  const repo = colon > slash ? name.slice(0, colon) : name;
  const [first, ...rest] = repo.split('/');
  const hasHost =
    first !== undefined && rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  return {
    ...(hasHost ? { host: first } : {}),
    path: hasHost ? rest.join('/') : repo,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

interface ChartImage {
  host?: string | undefined;
  path: string;
  tag?: string | undefined;
  digest?: string | undefined;
}

/**
 * Images a Helm chart will run, as set in an Argo CD Application's values: every object with a
 * string `repository` and a `tag` or `digest` (the shape of nearly every chart's `image:`), with
 * its `registry` or the host in `repository`, and a digest given as `digest` or after `@` in `tag`.
 */
function chartImages(src: SourcedObject): Array<{ at: string; image: ChartImage }> {
  const { obj } = src;
  if (obj.kind !== 'Application' || apiGroup(obj.apiVersion) !== 'argoproj.io') return [];
  const spec = (obj.spec ?? {}) as { source?: unknown; sources?: unknown[] };
  const found: Array<{ at: string; image: ChartImage }> = [];
  const walk = (tree: unknown, at: string) => {
    if (Array.isArray(tree)) {
      for (const [i, item] of tree.entries()) walk(item, `${at}[${i}]`);
      return;
    }
    if (tree === null || typeof tree !== 'object') return;
    const o = tree as Record<string, unknown>;
    if (typeof o.repository === 'string' && (typeof o.tag === 'string' || typeof o.digest === 'string')) {
      const repo = parseImage(o.repository);
      const [tag, tagDigest] = (typeof o.tag === 'string' ? o.tag : '').split('@');
      const host = typeof o.registry === 'string' && o.registry !== '' ? o.registry : repo.host;
      const digest = typeof o.digest === 'string' && o.digest !== '' ? o.digest : tagDigest;
      found.push({ at, image: { host, path: repo.path, tag: tag || undefined, digest } });
    }
    for (const [k, val] of Object.entries(o)) walk(val, `${at}.${k}`);
  };
  for (const [i, source] of [spec.source, ...(spec.sources ?? [])].entries()) {
    const helm = (source as { helm?: { values?: string; valuesObject?: unknown } } | undefined)?.helm;
    if (!helm) continue;
    const at = i === 0 ? 'helm' : `sources[${i - 1}].helm`;
    walk(helm.valuesObject, `${at}.valuesObject`);
    if (typeof helm.values === 'string') {
      try {
        walk(parseYaml(helm.values), `${at}.values`);
      } catch {
        // Reported by the plaintext-secret rule, which parses the same text.
      }
    }
  }
  return found;
}

/**
 * Charts of Argo CD Applications come from the airgap registry (the public implementation
 * installed MetalLB from an internet Helm repository) at the exact version of the inventory.
 */
function chartSources(src: SourcedObject, inventory: InventoryView): Violation[] {
  const { obj } = src;
  if (obj.kind !== 'Application' || apiGroup(obj.apiVersion) !== 'argoproj.io') return [];
  const spec = (obj.spec ?? {}) as { source?: unknown; sources?: unknown[] };
  const out: Violation[] = [];
  for (const [i, source] of [spec.source, ...(spec.sources ?? [])].entries()) {
    const s = source as { chart?: string; repoURL?: string; targetRevision?: string } | undefined;
    if (!s?.chart) continue;
    const at = i === 0 ? 'source' : `sources[${i - 1}]`;
    const repo = (s.repoURL ?? '').replace(/^oci:\/\//, '');
    if (!repo.startsWith(`${inventory.site.registry}/`)) {
      out.push(
        v(
          src,
          'image-pinned',
          `${at} chart ${s.chart} comes from ${s.repoURL}, not from the airgap registry ${inventory.site.registry}`,
        ),
      );
    }
    if (!inventory.charts?.some((c) => c.chart === s.chart && c.version === s.targetRevision)) {
      out.push(
        v(src, 'image-pinned', `${at} chart ${s.chart} ${s.targetRevision} is not a chart version of the inventory`),
      );
    }
  }
  return out;
}

/**
 * Every image is an inventory image (same airgap path) pinned by the inventory's digest: the
 * containers of every pod spec, CloudNativePG's `imageName`, and the images Helm values set.
 */
export function checkImages(cluster: Cluster, inventory: InventoryView): Violation[] {
  const out: Violation[] = [];
  const known = new Map<string, Set<string>>();
  for (const img of inventory.images) {
    const path = img.airgapPath ?? airgapPath(img.source ?? img.name);
    const set = known.get(path) ?? new Set<string>();
    if (img.digest) set.add(img.digest);
    known.set(path, set);
  }
  const checkRef = (src: SourcedObject, at: string, ref: unknown) => {
    if (typeof ref !== 'string' || ref === '') {
      out.push(v(src, 'image-pinned', `${at} has no image`));
      return;
    }
    const img = parseImage(ref);
    if (!img.digest || !/^sha256:[0-9a-f]{64}$/.test(img.digest)) {
      out.push(v(src, 'image-pinned', `${at} image ${ref} is not pinned by a sha256 digest`));
      return;
    }
    const digests = known.get(img.path);
    if (!digests) out.push(v(src, 'image-pinned', `${at} image ${ref} is not in the inventory (no image ${img.path})`));
    else if (!digests.has(img.digest)) {
      out.push(v(src, 'image-pinned', `${at} image ${ref} is pinned to a digest the inventory lock does not hold`));
    }
  };
  for (const src of cluster.objects) {
    if (inventory.charts) out.push(...chartSources(src, inventory));
    for (const { at, image } of chartImages(src)) {
      if (!image.host) {
        out.push(
          v(src, 'image-pinned', `${at} names no registry: the chart's default, an internet registry, would be pulled`),
        );
        continue;
      }
      if (image.host !== inventory.site.registry) {
        out.push(
          v(
            src,
            'image-pinned',
            `${at} image ${image.host}/${image.path} is not in the airgap registry ${inventory.site.registry}`,
          ),
        );
        continue;
      }
      checkRef(
        src,
        at,
        `${image.host}/${image.path}${image.tag ? `:${image.tag}` : ''}${image.digest ? `@${image.digest}` : ''}`,
      );
    }
    const pod = podOf(src.obj);
    if (pod)
      for (const { list, container } of allContainers(pod.spec))
        checkRef(src, `${list}[${container.name}]`, container.image);
    if (src.obj.kind === 'Cluster' && apiGroup(src.obj.apiVersion) === 'postgresql.cnpg.io') {
      checkRef(src, 'spec.imageName', (src.obj.spec as { imageName?: unknown } | undefined)?.imageName);
    }
  }
  return out;
}
