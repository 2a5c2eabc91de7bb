/**
 * lumen's admission policy: Gatekeeper ConstraintTemplates written for the K8sNativeValidation
 * (CEL) engine, and their Constraints. The platform renders exactly these objects into deploy/,
 * and `lumen check` evaluates the rendered copies with a real CEL engine — so the policy that
 * is proven is the policy that is deployed.
 *
 * Every template reads the pod spec of Pods AND of every pod-template kind (Deployment,
 * StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Argo Rollout) and every container list
 * (containers, initContainers, ephemeralContainers): the public implementation forgot
 * Rollouts, init and ephemeral containers, and its "untagged" test was fooled by a
 * `host:port` registry.
 */

/** The kinds every Constraint matches: Pods and every kind that carries a pod template. */
export const podKinds = [
  { apiGroups: [''], kinds: ['Pod'] },
  { apiGroups: ['apps'], kinds: ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'] },
  { apiGroups: ['batch'], kinds: ['Job', 'CronJob'] },
  { apiGroups: ['argoproj.io'], kinds: ['Rollout'] },
];

/**
 * Namespaces whose pods do not come from lumen's rendering: K3s' own system pods run images
 * loaded from the K3s airgap tarball under their upstream names.
 */
export const systemNamespaces = ['kube-system'];

/** Namespaces of lumen's own workloads, where labels and resources are lumen's to set. */
export const applicationNamespaces = ['lumen'];

const anyObject = 'variables.anyObject';

/**
 * Variables shared by every template: `podSpec`, `podMeta` and the container lists. A Rollout
 * that uses `workloadRef` has no template of its own and yields an empty spec.
 */
const podVariables = [
  {
    name: 'podSpec',
    expression: [
      `${anyObject}.kind == 'Pod' ? ${anyObject}.spec :`,
      `${anyObject}.kind == 'CronJob' ? ${anyObject}.spec.jobTemplate.spec.template.spec :`,
      `has(${anyObject}.spec.template) ? ${anyObject}.spec.template.spec : {}`,
    ].join('\n'),
  },
  {
    name: 'podMeta',
    expression: [
      `${anyObject}.kind == 'Pod' ? ${anyObject}.metadata :`,
      `${anyObject}.kind == 'CronJob' ? (has(${anyObject}.spec.jobTemplate.spec.template.metadata) ? ${anyObject}.spec.jobTemplate.spec.template.metadata : {}) :`,
      `has(${anyObject}.spec.template) && has(${anyObject}.spec.template.metadata) ? ${anyObject}.spec.template.metadata : {}`,
    ].join('\n'),
  },
  {
    name: 'regularContainers',
    expression:
      '(has(variables.podSpec.containers) ? variables.podSpec.containers : []) + (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : [])',
  },
  {
    name: 'containers',
    expression:
      'variables.regularContainers + (has(variables.podSpec.ephemeralContainers) ? variables.podSpec.ephemeralContainers : [])',
  },
];

interface TemplateSpec {
  kind: string;
  description: string;
  parameters: Record<string, unknown>;
  variables?: Array<{ name: string; expression: string }>;
  validations: Array<{ expression: string; messageExpression?: string; message?: string }>;
}

function template(spec: TemplateSpec) {
  return {
    apiVersion: 'templates.gatekeeper.sh/v1',
    kind: 'ConstraintTemplate',
    metadata: {
      name: spec.kind.toLowerCase(),
      annotations: {
        description: spec.description,
        // Templates first: Gatekeeper creates the Constraint CRD from the template.
        'argocd.argoproj.io/sync-wave': '0',
      },
    },
    spec: {
      crd: {
        spec: {
          names: { kind: spec.kind },
          validation: { openAPIV3Schema: { type: 'object', properties: spec.parameters } },
        },
      },
      targets: [
        {
          target: 'admission.k8s.gatekeeper.sh',
          code: [
            {
              engine: 'K8sNativeValidation',
              source: {
                variables: [...podVariables, ...(spec.variables ?? [])],
                validations: spec.validations,
              },
            },
          ],
        },
      ],
    },
  };
}

function constraint(kind: string, name: string, match: Record<string, unknown>, parameters: Record<string, unknown>) {
  return {
    apiVersion: 'constraints.gatekeeper.sh/v1beta1',
    kind,
    metadata: {
      name,
      annotations: {
        'argocd.argoproj.io/sync-wave': '1',
        // The Constraint's CRD appears only once Gatekeeper has read the template.
        'argocd.argoproj.io/sync-options': 'SkipDryRunOnMissingResource=true',
      },
    },
    spec: { enforcementAction: 'deny', match: { kinds: podKinds, ...match }, parameters },
  };
}

/** Images only from the airgap registry (`<registry>/…`), in every container list. */
export const allowedRegistryTemplate = template({
  kind: 'LumenAllowedRegistry',
  description: 'Every container, init container and ephemeral container image comes from the airgap registry.',
  parameters: { registry: { type: 'string', description: 'host[:port] of the airgap registry' } },
  variables: [
    {
      name: 'foreign',
      expression:
        "variables.containers.filter(c, !has(c.image) || !c.image.startsWith(variables.params.registry + '/'))",
    },
  ],
  validations: [
    {
      expression: 'size(variables.foreign) == 0',
      messageExpression:
        "'images must come from ' + variables.params.registry + '/: ' + variables.foreign.map(c, c.name + '=' + (has(c.image) ? c.image : '<none>')).join(', ')",
    },
  ],
});

/**
 * A reference is tagged when the LAST path segment (after the last `/`, before any `@digest`)
 * has a `:tag`. Checking for any `:` is fooled by `192.168.2.2:5000/app`, which is untagged.
 */
const taggedRef = '^([^@]*/)?[^/@:]+:[^/@:]+(@.+)?$';
const latestRef = '^([^@]*/)?[^/@:]+:latest(@.+)?$';

/** No untagged images and no `:latest`, in every container list. */
export const imageTagTemplate = template({
  kind: 'LumenImageTag',
  description: 'Every image names an explicit tag other than latest (a registry host:port is not a tag).',
  parameters: {},
  variables: [
    {
      name: 'untagged',
      expression: `variables.containers.filter(c, !has(c.image) || !c.image.matches('${taggedRef}'))`,
    },
    { name: 'latest', expression: `variables.containers.filter(c, has(c.image) && c.image.matches('${latestRef}'))` },
  ],
  validations: [
    {
      expression: 'size(variables.untagged) == 0',
      messageExpression:
        "'images must carry a tag: ' + variables.untagged.map(c, c.name + '=' + (has(c.image) ? c.image : '<none>')).join(', ')",
    },
    {
      expression: 'size(variables.latest) == 0',
      messageExpression: "'images must not use :latest: ' + variables.latest.map(c, c.name + '=' + c.image).join(', ')",
    },
  ],
});

/**
 * Requests and limits for the listed resources on containers and init containers. Ephemeral
 * containers are left out on purpose: Kubernetes forbids resources on them.
 */
export const containerResourcesTemplate = template({
  kind: 'LumenContainerResources',
  description: 'Every container and init container sets requests and limits for cpu and memory.',
  parameters: { resources: { type: 'array', items: { type: 'string' } } },
  variables: [
    {
      name: 'unbounded',
      expression:
        'variables.regularContainers.filter(c, !has(c.resources) || !has(c.resources.requests) || !has(c.resources.limits) || !variables.params.resources.all(r, r in c.resources.requests && r in c.resources.limits))',
    },
  ],
  validations: [
    {
      expression: 'size(variables.unbounded) == 0',
      messageExpression:
        "'containers need requests and limits for ' + variables.params.resources.join(', ') + ': ' + variables.unbounded.map(c, c.name).join(', ')",
    },
  ],
});

/** Pod labels that must be present and non-empty (`app`, `tier`). */
export const requiredLabelsTemplate = template({
  kind: 'LumenRequiredLabels',
  description: 'Every pod carries the labels app and tier.',
  parameters: { labels: { type: 'array', items: { type: 'string' } } },
  variables: [
    {
      name: 'missing',
      expression:
        "variables.params.labels.filter(l, !has(variables.podMeta.labels) || !(l in variables.podMeta.labels) || variables.podMeta.labels[l] == '')",
    },
  ],
  validations: [
    {
      expression: 'size(variables.missing) == 0',
      messageExpression: "'pods must be labelled ' + variables.missing.join(', ')",
    },
  ],
});

/** Every ConstraintTemplate, in the order they are rendered. */
export const constraintTemplates = [
  allowedRegistryTemplate,
  imageTagTemplate,
  containerResourcesTemplate,
  requiredLabelsTemplate,
];

/** Options for {@link policies}. */
export interface PolicyOptions {
  /** The airgap registry `host:port` (the inventory's `site.registry`). */
  registry: string;
}

/** The Constraints instantiating the templates for this site. */
export function constraints(options: PolicyOptions) {
  const everywhere = { excludedNamespaces: systemNamespaces };
  const applications = { namespaces: applicationNamespaces };
  return [
    constraint('LumenAllowedRegistry', 'images-from-airgap-registry', everywhere, { registry: options.registry }),
    constraint('LumenImageTag', 'images-tagged-not-latest', everywhere, {}),
    constraint('LumenContainerResources', 'containers-requests-and-limits', applications, {
      resources: ['cpu', 'memory'],
    }),
    constraint('LumenRequiredLabels', 'pods-labelled-app-and-tier', applications, { labels: ['app', 'tier'] }),
  ];
}

/** Every policy object (templates first, then constraints) for the platform to render. */
export function policies(options: PolicyOptions) {
  return [...constraintTemplates, ...constraints(options)];
}
