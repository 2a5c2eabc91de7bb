/**
 * Schemas for the custom resources that have no kubernetes-models package (Gatekeeper,
 * CloudNativePG, Chaos Mesh, Vault Secrets Operator, MetalLB, Kyverno). They are strict where
 * they list fields: a misspelt field is an error, not a silently ignored setting. Only the
 * fields lumen uses are listed in depth; the rest of a spec is typed loosely (`any`).
 */

/** A small structural schema language. */
export type Schema =
  | { type: 'any' }
  | { type: 'string'; enum?: readonly string[] }
  | { type: 'integer' }
  | { type: 'number' }
  | { type: 'boolean' }
  | { type: 'array'; items: Schema }
  | { type: 'map'; values: Schema }
  | { type: 'object'; props: Record<string, Schema>; required?: readonly string[]; open?: boolean };

const any: Schema = { type: 'any' };
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const bool: Schema = { type: 'boolean' };
const strings: Schema = { type: 'array', items: str };
const stringMap: Schema = { type: 'map', values: str };
const obj = (props: Record<string, Schema>, required: readonly string[] = [], open = false): Schema => ({
  type: 'object',
  props,
  required,
  open,
});
const arr = (items: Schema): Schema => ({ type: 'array', items });

const labelSelector = obj({
  matchLabels: stringMap,
  matchExpressions: arr(obj({ key: str, operator: str, values: strings }, ['key', 'operator'])),
});

const chaosSelector = obj({
  namespaces: strings,
  labelSelectors: stringMap,
  expressionSelectors: arr(obj({ key: str, operator: str, values: strings }, ['key', 'operator'])),
  annotationSelectors: stringMap,
  fieldSelectors: stringMap,
  podPhaseSelectors: strings,
  nodeSelectors: stringMap,
  nodes: strings,
  pods: { type: 'map', values: strings },
});

const chaosCommon = {
  selector: chaosSelector,
  mode: { type: 'string', enum: ['one', 'all', 'fixed', 'fixed-percent', 'random-max-percent'] } as Schema,
  value: str,
  duration: str,
  containerNames: strings,
  remoteCluster: str,
};

const gatekeeperMatch = obj({
  kinds: arr(obj({ apiGroups: strings, kinds: strings })),
  namespaces: strings,
  excludedNamespaces: strings,
  scope: { type: 'string', enum: ['*', 'Cluster', 'Namespaced'] },
  labelSelector,
  namespaceSelector: labelSelector,
  name: str,
  source: { type: 'string', enum: ['All', 'Generated', 'Original'] },
});

const specOf = (spec: Schema, required = true): Schema =>
  obj({ apiVersion: str, kind: str, metadata: any, spec }, required ? ['spec'] : []);

/**
 * cert-manager issuers. @kubernetes-models/cert-manager predates Vault's `serviceAccountRef`
 * (cert-manager 1.12+) and still requires `secretRef`, so the issuers get a local schema that
 * follows the CRD of the cert-manager version lumen ships.
 */
const issuerSpec = obj({
  vault: obj(
    {
      server: str,
      path: str,
      namespace: str,
      caBundle: str,
      caBundleSecretRef: obj({ name: str, key: str }, ['name']),
      clientCertSecretRef: obj({ name: str, key: str }, ['name']),
      clientKeySecretRef: obj({ name: str, key: str }, ['name']),
      serverName: str,
      auth: obj({
        tokenSecretRef: obj({ name: str, key: str }, ['name']),
        appRole: obj({ path: str, roleId: str, secretRef: obj({ name: str, key: str }, ['name']) }, [
          'path',
          'roleId',
          'secretRef',
        ]),
        clientCertificate: obj({ mountPath: str, name: str, secretName: str }),
        kubernetes: obj(
          {
            mountPath: str,
            role: str,
            secretRef: obj({ name: str, key: str }, ['name']),
            serviceAccountRef: obj({ name: str, audiences: strings }, ['name']),
          },
          ['role'],
        ),
      }),
    },
    ['server', 'path', 'auth'],
  ),
  ca: obj({ secretName: str, crlDistributionPoints: strings, ocspServers: strings, issuingCertificateURLs: strings }, [
    'secretName',
  ]),
  selfSigned: obj({ crlDistributionPoints: strings }),
  acme: any,
  venafi: any,
});

/** Local schemas by `apiVersion/kind`; `constraints.gatekeeper.sh/v1beta1/*` covers every Constraint kind. */
export const localSchemas: Record<string, Schema> = {
  'templates.gatekeeper.sh/v1/ConstraintTemplate': specOf(
    obj(
      {
        crd: obj({
          spec: obj({
            names: obj({ kind: str, shortNames: strings }, ['kind']),
            validation: obj({ openAPIV3Schema: any, legacySchema: bool }),
          }),
        }),
        targets: arr(
          obj(
            {
              target: str,
              rego: str,
              libs: strings,
              code: arr(
                obj({ engine: { type: 'string', enum: ['K8sNativeValidation', 'Rego'] }, source: any }, [
                  'engine',
                  'source',
                ]),
              ),
              operations: strings,
            },
            ['target'],
          ),
        ),
      },
      ['crd', 'targets'],
    ),
  ),
  'constraints.gatekeeper.sh/v1beta1/*': specOf(
    obj({
      enforcementAction: { type: 'string', enum: ['deny', 'dryrun', 'warn', 'scoped'] },
      scopedEnforcementActions: arr(any),
      match: gatekeeperMatch,
      parameters: any,
    }),
    false,
  ),
  'cert-manager.io/v1/ClusterIssuer': specOf(issuerSpec),
  'cert-manager.io/v1/Issuer': specOf(issuerSpec),
  'postgresql.cnpg.io/v1/Cluster': specOf(
    obj(
      {
        instances: int,
        imageName: str,
        imagePullPolicy: str,
        imagePullSecrets: arr(obj({ name: str })),
        primaryUpdateStrategy: str,
        primaryUpdateMethod: str,
        postgresql: any,
        bootstrap: any,
        storage: obj({ size: str, storageClass: str, resizeInUseVolumes: bool, pvcTemplate: any }),
        walStorage: obj({ size: str, storageClass: str, pvcTemplate: any }),
        resources: obj({ requests: stringMap, limits: stringMap }),
        affinity: any,
        monitoring: any,
        superuserSecret: obj({ name: str }),
        enableSuperuserAccess: bool,
        managed: any,
        minSyncReplicas: int,
        maxSyncReplicas: int,
        inheritedMetadata: obj({ labels: stringMap, annotations: stringMap }),
        description: str,
        backup: any,
        certificates: any,
        startDelay: int,
        stopDelay: int,
        switchoverDelay: int,
        failoverDelay: int,
        smartShutdownTimeout: int,
        logLevel: str,
        env: arr(any),
        seccompProfile: any,
        priorityClassName: str,
        topologySpreadConstraints: arr(any),
        enablePDB: bool,
        podSecurityContext: any,
        securityContext: any,
        serviceAccountTemplate: any,
        projectedVolumeTemplate: any,
        replicationSlots: any,
        probes: any,
        plugins: arr(any),
        postgresUID: int,
        postgresGID: int,
      },
      ['instances'],
    ),
  ),
  'chaos-mesh.org/v1alpha1/PodChaos': specOf(
    obj(
      {
        ...chaosCommon,
        action: { type: 'string', enum: ['pod-kill', 'pod-failure', 'container-kill'] },
        gracePeriod: int,
      },
      ['selector', 'mode', 'action'],
    ),
  ),
  'chaos-mesh.org/v1alpha1/NetworkChaos': specOf(
    obj(
      {
        ...chaosCommon,
        action: {
          type: 'string',
          enum: ['netem', 'delay', 'loss', 'duplicate', 'corrupt', 'partition', 'bandwidth', 'rate'],
        },
        direction: { type: 'string', enum: ['to', 'from', 'both'] },
        target: obj({ ...chaosCommon }),
        externalTargets: strings,
        delay: obj({ latency: str, jitter: str, correlation: str, reorder: any }),
        loss: obj({ loss: str, correlation: str }),
        duplicate: obj({ duplicate: str, correlation: str }),
        corrupt: obj({ corrupt: str, correlation: str }),
        bandwidth: any,
        rate: any,
        device: str,
        targetDevice: str,
      },
      ['selector', 'mode', 'action'],
    ),
  ),
  'chaos-mesh.org/v1alpha1/StressChaos': specOf(
    obj({ ...chaosCommon, stressors: any, stressngStressors: str }, ['selector', 'mode']),
  ),
  'secrets.hashicorp.com/v1beta1/VaultStaticSecret': specOf(
    obj(
      {
        vaultAuthRef: str,
        namespace: str,
        mount: str,
        path: str,
        version: int,
        type: { type: 'string', enum: ['kv-v1', 'kv-v2'] },
        refreshAfter: str,
        hmacSecretData: bool,
        rolloutRestartTargets: arr(obj({ kind: str, name: str }, ['kind', 'name'])),
        destination: obj(
          {
            name: str,
            create: bool,
            overwrite: bool,
            labels: stringMap,
            annotations: stringMap,
            type: str,
            transformation: any,
          },
          ['name'],
        ),
        syncConfig: any,
      },
      ['mount', 'path', 'type', 'destination'],
    ),
  ),
  'secrets.hashicorp.com/v1beta1/VaultAuth': specOf(
    obj(
      {
        vaultConnectionRef: str,
        namespace: str,
        allowedNamespaces: strings,
        method: { type: 'string', enum: ['kubernetes', 'jwt', 'appRole', 'aws', 'gcp'] },
        mount: str,
        params: stringMap,
        headers: stringMap,
        kubernetes: obj({ role: str, serviceAccount: str, audiences: strings, tokenExpirationSeconds: int }, ['role']),
        storageEncryption: any,
      },
      ['method', 'mount'],
    ),
  ),
  'secrets.hashicorp.com/v1beta1/VaultConnection': specOf(
    obj(
      { address: str, headers: stringMap, tlsServerName: str, caCertSecretRef: str, skipTLSVerify: bool, timeout: str },
      ['address'],
    ),
  ),
  'metallb.io/v1beta1/IPAddressPool': specOf(
    obj({ addresses: strings, autoAssign: bool, avoidBuggyIPs: bool, serviceAllocation: any }, ['addresses']),
  ),
  'metallb.io/v1beta1/L2Advertisement': specOf(
    obj({
      ipAddressPools: strings,
      ipAddressPoolSelectors: arr(labelSelector),
      nodeSelectors: arr(labelSelector),
      interfaces: strings,
    }),
    false,
  ),
  'kyverno.io/v1/ClusterPolicy': specOf(
    obj({
      validationFailureAction: str,
      validationFailureActionOverrides: arr(any),
      background: bool,
      webhookTimeoutSeconds: int,
      failurePolicy: str,
      admission: bool,
      rules: arr(any),
      mutateExistingOnPolicyUpdate: bool,
      generateExisting: bool,
      useServerSideApply: bool,
      webhookConfiguration: any,
    }),
  ),
  'kyverno.io/v1/Policy': specOf(
    obj({ validationFailureAction: str, background: bool, rules: arr(any), failurePolicy: str }),
  ),
};

/** Validates `value` against `schema`; returns `path: problem` strings. */
export function validateLocal(schema: Schema, value: unknown, path = ''): string[] {
  const at = path || '.';
  switch (schema.type) {
    case 'any':
      return [];
    case 'string':
      if (typeof value !== 'string') return [`${at} must be a string`];
      if (schema.enum && !schema.enum.includes(value)) return [`${at} must be one of ${schema.enum.join(', ')}`];
      return [];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at} must be an integer`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at} must be a number`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at} must be a boolean`];
    case 'array':
      if (!Array.isArray(value)) return [`${at} must be a list`];
      return value.flatMap((item, i) => validateLocal(schema.items, item, `${path}[${i}]`));
    case 'map':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${at} must be a map`];
      return Object.entries(value).flatMap(([k, item]) => validateLocal(schema.values, item, `${path}.${k}`));
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${at} must be an object`];
      const out: string[] = [];
      const record = value as Record<string, unknown>;
      for (const req of schema.required ?? []) {
        if (record[req] === undefined) out.push(`${path}.${req} is required`);
      }
      for (const [k, item] of Object.entries(record)) {
        const sub = schema.props[k];
        if (!sub) {
          if (!schema.open) out.push(`${path}.${k} is not a known field`);
          continue;
        }
        out.push(...validateLocal(sub, item, `${path}.${k}`));
      }
      return out;
    }
  }
}
