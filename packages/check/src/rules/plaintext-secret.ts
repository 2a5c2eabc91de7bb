/**
 * The `plaintext-secret` rule: no secret in Git — Secret data, secret-named env values, Helm
 * values, URLs with passwords, PEM private keys.
 */
import { parse as parseYaml } from 'yaml';
import type { Cluster } from '../cluster.ts';
import { apiGroup } from '../manifests.ts';
import { allContainers, podOf } from '../pod-spec.ts';
import type { Violation } from '../types.ts';
import { violationOf as v } from '../violation.ts';

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
