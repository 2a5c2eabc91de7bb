/**
 * The server stage of `lumen check --server`: every object applied to a real kube-apiserver in
 * dry run, as Argo CD's sync would apply it. The namespaces (with their Pod Security labels), a
 * `default` ServiceAccount in each (what kube-controller-manager creates in any cluster) and the
 * CRDs (lumen's and the rendered charts') are created for real; every other object is sent as a
 * server-side apply with `dryRun=All`, `fieldValidation=Strict` and `force=true`. A rejection is a
 * violation with the server's message; a Pod Security warning on a pod-template kind (Deployment,
 * StatefulSet, DaemonSet, Job, CronJob, …) at the level its namespace enforces is one too, since
 * the pods it creates would be refused. Other warnings (deprecations, …) are reported as notes.
 *
 * The server is the one `@lumen/testkit` starts (kube-apiserver at the inventory's K3s version on
 * its own etcd) or any cluster given by a kubeconfig.
 */
import type { IncomingMessage } from 'node:http';
import { Agent, type RequestOptions, request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { CheckError, CheckErrorCode } from './errors.ts';
import { apiGroup, objectId } from './manifests.ts';
import type { ComponentFacts, K8sObject, SourcedObject, Violation } from './types.ts';
import { violationOf } from './violation.ts';

/** What the server stage found. */
export interface ServerStage {
  /** `kube-apiserver v1.36.4` as the server reports its version. */
  server: string;
  /** Objects the server judged (accepted or rejected). */
  judged: Set<SourcedObject>;
  /** Objects not sent, with why (a kind whose CRD comes from a chart that was not rendered, …). */
  skipped: Array<{ object: SourcedObject; reason: string }>;
  violations: Violation[];
  /** Warnings that are not violations (deprecations, …), with the object they were given for. */
  notes: ServerNote[];
  /** Milliseconds spent creating namespaces and CRDs and applying every object. */
  applyMs: number;
}

/** A warning of the server that is not a violation. */
export interface ServerNote {
  file: string;
  kind: string;
  namespace: string;
  name: string;
  warning: string;
}

interface Response {
  status: number;
  body: unknown;
  /** Each `Warning` header's text. */
  warnings: string[];
}

/** An authenticated HTTPS client for one API server, from a kubeconfig (client-node reads it). */
export class ApiClient {
  readonly server: string;
  private readonly config: KubeConfig;

  constructor(kubeconfig: string) {
    this.config = new KubeConfig();
    try {
      this.config.loadFromString(kubeconfig);
    } catch (err) {
      throw new CheckError(CheckErrorCode.usage, `the kubeconfig is not valid: ${(err as Error).message}`);
    }
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new CheckError(CheckErrorCode.usage, 'the kubeconfig names no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
  }

  /**
   * The kubeconfig's credentials and CA, read once, with one keep-alive agent: the server stage sends
   * hundreds of requests, and a TLS handshake (and a CA parse) per request cost more than the requests.
   */
  private connection?: Promise<{ agent: Agent; headers: Record<string, string> }>;

  private connect(): Promise<{ agent: Agent; headers: Record<string, string> }> {
    this.connection ??= (async () => {
      const tls: RequestOptions & { headers: Record<string, string> } = { headers: {} };
      await this.config.applyToHTTPSOptions(tls);
      const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = tls;
      const agent = new Agent({ ca, cert, key, pfx, passphrase, rejectUnauthorized, servername, keepAlive: true });
      return { agent, headers: tls.headers };
    })();
    return this.connection;
  }

  async call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Response> {
    const url = new URL(this.server + path);
    const { agent, headers } = await this.connect();
    const options: RequestOptions & { headers: Record<string, string> } = {
      method,
      agent,
      headers: { ...headers, accept: 'application/json' },
    };
    if (method === 'GET' && /^\/apis?$/.test(path)) {
      options.headers.accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
    }
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) options.headers['content-type'] = contentType;
    return new Promise((resolve, reject) => {
      const req = request(url, options, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text for the message
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, warnings: warningsOf(res.rawHeaders) });
        });
      });
      req.on('error', (err) =>
        reject(new CheckError(CheckErrorCode.server, `cannot reach the API server ${this.server}: ${err.message}`)),
      );
      req.setTimeout(60_000, () => req.destroy(new Error('no answer in 60 s')));
      req.end(payload);
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    void this.connection?.then((c) => c.agent.destroy());
  }
}

/** `299 - "text"` → `text`, one per Warning header (RFC 7234; the API server uses code 299). */
function warningsOf(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== 'warning') continue;
    const m = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(raw[i + 1] as string);
    out.push(m ? (m[1] as string).replace(/\\(.)/g, '$1') : (raw[i + 1] as string));
  }
  return out;
}

function statusMessage(res: Response): string {
  const body = res.body as { message?: string } | string;
  const message = typeof body === 'object' && body !== null ? body.message : String(body);
  return (message ?? `HTTP ${res.status}`).trim();
}

/** A resource the server serves: `group/version/Kind` → plural name and scope. */
type Discovery = Map<string, { resource: string; namespaced: boolean }>;

interface DiscoveryList {
  items?: Array<{
    metadata?: { name?: string };
    versions?: Array<{
      version: string;
      resources?: Array<{ resource: string; scope: string; responseKind?: { kind?: string } }>;
    }>;
  }>;
}

/** Aggregated discovery (`/api` and `/apis`, apidiscovery.k8s.io/v2): two requests for every resource. */
async function discover(api: ApiClient): Promise<Discovery> {
  const out: Discovery = new Map();
  for (const path of ['/api', '/apis']) {
    const res = await api.call('GET', path);
    if (res.status !== 200) {
      throw new CheckError(CheckErrorCode.server, `API discovery ${path}: HTTP ${res.status}: ${statusMessage(res)}`);
    }
    for (const group of (res.body as DiscoveryList).items ?? []) {
      for (const v of group.versions ?? []) {
        for (const r of v.resources ?? []) {
          const kind = r.responseKind?.kind;
          if (!kind || r.resource.includes('/')) continue;
          out.set(`${group.metadata?.name ?? ''}/${v.version}/${kind}`, {
            resource: r.resource,
            namespaced: r.scope === 'Namespaced',
          });
        }
      }
    }
  }
  return out;
}

function groupVersion(obj: K8sObject): { group: string; version: string } {
  const apiVersion = obj.apiVersion ?? '';
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function resourcePath(obj: K8sObject, r: { resource: string; namespaced: boolean }): string {
  const { group, version } = groupVersion(obj);
  const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const ns = r.namespaced ? `/namespaces/${encodeURIComponent(obj.metadata?.namespace ?? 'default')}` : '';
  return `${base}${ns}/${r.resource}/${encodeURIComponent(obj.metadata?.name ?? '')}`;
}

const applyQuery = 'fieldManager=lumen-check&force=true&fieldValidation=Strict';
const applyType = 'application/apply-patch+yaml';
/** How long the stage waits for the CRDs it applied to be served before judging their objects. */
const crdServeTimeoutMs = 120_000;

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const podSecurityWarning = /^would violate PodSecurity "([a-z]+):[^"]*": /;

/** Which component provides a kind by its CRD (`group/Kind` or a CRD name `plural.group`). */
function providerOf(obj: K8sObject, components: readonly ComponentFacts[]): ComponentFacts | undefined {
  const group = apiGroup(obj.apiVersion);
  return components.find((c) =>
    (c.providesCrds ?? []).some((p) => p === `${group}/${obj.kind}` || (group !== '' && p.endsWith(`.${group}`))),
  );
}

/**
 * Proves `objects` on the server. Namespaces and CRDs among `setup` are created for real first
 * (a dry run of manifests on top of the platform passes the platform as `setup` and only the
 * manifests as `objects`).
 */
export async function proveOnServer(
  api: ApiClient,
  setup: readonly SourcedObject[],
  objects: readonly SourcedObject[],
  components: readonly ComponentFacts[],
): Promise<ServerStage> {
  const started = performance.now();
  const version = await api.call('GET', '/version');
  if (version.status !== 200) {
    throw new CheckError(
      CheckErrorCode.server,
      `API server ${api.server}: HTTP ${version.status}: ${statusMessage(version)}`,
    );
  }
  const stage: ServerStage = {
    server: `kube-apiserver ${(version.body as { gitVersion?: string }).gitVersion ?? '(unknown version)'}`,
    judged: new Set(),
    skipped: [],
    violations: [],
    notes: [],
    applyMs: 0,
  };
  const reject = (src: SourcedObject, reason: string) => {
    stage.judged.add(src);
    const rule = /PodSecurity/.test(reason) ? 'pod-security' : 'schema';
    stage.violations.push(violationOf(src, rule, `API server: ${reason}`));
  };
  const all = [...setup, ...objects.filter((o) => !setup.includes(o))];
  const tested = new Set(objects);

  // 1. Namespaces for real, with their labels (Pod Security reads them), and their default ServiceAccount.
  const enforced = new Map<string, string>();
  const namespaces = new Set<string>();
  for (const src of all) {
    if (src.obj.kind === 'Namespace' && src.obj.apiVersion === 'v1') {
      const name = src.obj.metadata?.name ?? '';
      namespaces.add(name);
      const level = src.obj.metadata?.labels?.['pod-security.kubernetes.io/enforce'];
      if (level) enforced.set(name, level);
      const res = await api.call('POST', '/api/v1/namespaces', src.obj);
      if (tested.has(src)) stage.judged.add(src);
      if (res.status >= 300 && res.status !== 409 && tested.has(src)) reject(src, statusMessage(res));
    } else if (src.obj.metadata?.namespace) {
      namespaces.add(src.obj.metadata.namespace);
    }
  }
  await pool([...namespaces], 8, async (ns) => {
    await api.call('POST', `/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts`, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default' },
    });
  });

  // 2. CRDs for real, then wait until the server serves them.
  let discovery = await discover(api);
  const crds = all.filter(
    (o) => o.obj.kind === 'CustomResourceDefinition' && apiGroup(o.obj.apiVersion) === 'apiextensions.k8s.io',
  );
  const crdResource = { resource: 'customresourcedefinitions', namespaced: false };
  const expected: string[] = [];
  await pool(crds, 8, async (src) => {
    const res = await api.call('PATCH', `${resourcePath(src.obj, crdResource)}?${applyQuery}`, src.obj, applyType);
    if (tested.has(src)) stage.judged.add(src);
    if (res.status >= 300) {
      if (tested.has(src)) reject(src, statusMessage(res));
      return;
    }
    const spec = src.obj.spec as {
      group?: string;
      names?: { kind?: string };
      versions?: Array<{ name: string; served?: boolean }>;
    };
    for (const v of spec.versions ?? [])
      if (v.served !== false) expected.push(`${spec.group}/${v.name}/${spec.names?.kind}`);
  });
  // A new CRD is served once the apiextensions controller has established it: well under a second on an idle
  // machine, but 30 s were seen to run out with ~100 chart CRDs on a machine loaded tenfold (false verdicts).
  const deadline = Date.now() + crdServeTimeoutMs;
  while (expected.some((k) => !discovery.has(k)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    discovery = await discover(api);
  }

  // 3. Everything else in dry run.
  const rest = objects.filter((o) => !(o.obj.kind === 'Namespace' && o.obj.apiVersion === 'v1') && !crds.includes(o));
  await pool(rest, 8, async (src) => {
    const { group, version } = groupVersion(src.obj);
    if (group === 'constraints.gatekeeper.sh') {
      stage.skipped.push({
        object: src,
        reason: 'Gatekeeper makes the kind from its ConstraintTemplate at run time; gator judged it',
      });
      return;
    }
    const r = discovery.get(`${group}/${version}/${src.obj.kind}`);
    if (!r) {
      const provider = providerOf(src.obj, components);
      if (provider && !crds.some((c) => (c.obj.spec as { group?: string }).group === group)) {
        stage.skipped.push({
          object: src,
          reason: `its CRD comes from the chart of ${provider.name}, which was not rendered (give --charts, --bundle or --registry)`,
        });
        return;
      }
      const pending = expected.includes(`${group}/${version}/${src.obj.kind}`);
      reject(
        src,
        pending
          ? `the CRD defining ${src.obj.apiVersion} ${src.obj.kind} was applied, but the server did not serve it within ${crdServeTimeoutMs / 1000} s`
          : `the server serves no ${src.obj.apiVersion} ${src.obj.kind}, and no CRD among the objects defines it`,
      );
      return;
    }
    const res = await api.call('PATCH', `${resourcePath(src.obj, r)}?dryRun=All&${applyQuery}`, src.obj, applyType);
    stage.judged.add(src);
    if (res.status >= 300) {
      reject(src, statusMessage(res));
      return;
    }
    const ns = src.obj.metadata?.namespace ?? 'default';
    for (const warning of res.warnings) {
      const ps = podSecurityWarning.exec(warning);
      if (ps && r.namespaced && enforced.get(ns) === ps[1]) reject(src, warning);
      else stage.notes.push({ file: src.file, ...objectId(src.obj), warning });
    }
  });
  stage.applyMs = performance.now() - started;
  return stage;
}
