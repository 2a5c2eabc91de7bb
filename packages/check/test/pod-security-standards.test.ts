/**
 * Pod Security Standards, control by control: what baseline refuses, what restricted adds,
 * that privileged allows everything, and that the namespace's enforce label picks the level
 * for Pods and pod templates alike.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildCluster } from '../src/cluster.ts';
import type { PodSpec } from '../src/pod-spec.ts';
import { checkPodSecurity, podSecurityViolations } from '../src/rules/pod-security.ts';
import type { K8sObject } from '../src/types.ts';

const hardened = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
};

function spec(container: Record<string, unknown> = {}, pod: Record<string, unknown> = {}): PodSpec {
  return { containers: [{ name: 'c', image: 'x', securityContext: { ...hardened }, ...container }], ...pod } as PodSpec;
}

const controls = (s: PodSpec, level: 'baseline' | 'restricted') =>
  podSecurityViolations(s, {}, level).map((v) => v.split(':')[0]);

describe('baseline', () => {
  const cases: Array<[string, PodSpec, string]> = [
    ['hostNetwork', spec({}, { hostNetwork: true }), 'Host Namespaces'],
    ['hostPID', spec({}, { hostPID: true }), 'Host Namespaces'],
    ['privileged', spec({ securityContext: { ...hardened, privileged: true } }), 'Privileged Containers'],
    [
      'NET_ADMIN',
      spec({ securityContext: { ...hardened, capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } } }),
      'Capabilities',
    ],
    ['hostPath', spec({}, { volumes: [{ name: 'h', hostPath: { path: '/' } }] }), 'HostPath Volumes'],
    ['hostPort', spec({ ports: [{ containerPort: 80, hostPort: 80 }] }), 'Host Ports'],
    [
      'Unconfined seccomp',
      spec({ securityContext: { ...hardened, seccompProfile: { type: 'Unconfined' } } }),
      'Seccomp',
    ],
    ['unsafe sysctl', spec({}, { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }] } }), 'Sysctls'],
    ['procMount Unmasked', spec({ securityContext: { ...hardened, procMount: 'Unmasked' } }), '/proc Mount Type'],
    ['SELinux user', spec({}, { securityContext: { seLinuxOptions: { user: 'system_u' } } }), 'SELinux'],
    [
      'AppArmor unconfined',
      spec({ securityContext: { ...hardened, appArmorProfile: { type: 'Unconfined' } } }),
      'AppArmor',
    ],
    ['hostProcess', spec({}, { securityContext: { windowsOptions: { hostProcess: true } } }), 'HostProcess'],
  ];
  for (const [name, s, control] of cases) {
    test(`refuses ${name} (${control})`, () =>
      assert.ok(controls(s, 'baseline').includes(control), controls(s, 'baseline').join()));
  }
  test('admits a default pod spec with nothing set', () => {
    assert.deepEqual(controls({ containers: [{ name: 'c', image: 'x' }] }, 'baseline'), []);
  });
  test('admits the capabilities of the runtime default set and safe sysctls', () => {
    const s = spec(
      { securityContext: { capabilities: { add: ['CHOWN', 'NET_BIND_SERVICE'] } } },
      { securityContext: { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] } },
    );
    assert.deepEqual(controls(s, 'baseline'), []);
  });
  test('checks init and ephemeral containers too', () => {
    const s = spec({}, { initContainers: [{ name: 'i', image: 'x', securityContext: { privileged: true } }] });
    assert.ok(controls(s, 'baseline').includes('Privileged Containers'));
    const e = spec({}, { ephemeralContainers: [{ name: 'e', image: 'x', securityContext: { privileged: true } }] });
    assert.ok(controls(e, 'baseline').includes('Privileged Containers'));
  });
});

describe('restricted', () => {
  test('admits the hardened spec', () => assert.deepEqual(controls(spec(), 'restricted'), []));
  test('admits runAsNonRoot and seccomp set once at pod level', () => {
    const s: PodSpec = {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'c',
          image: 'x',
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
    };
    assert.deepEqual(controls(s, 'restricted'), []);
  });
  const cases: Array<[string, PodSpec, string]> = [
    [
      'a volume type outside the list',
      spec({}, { volumes: [{ name: 'n', nfs: { server: 's', path: '/' } }] }),
      'Volume Types',
    ],
    [
      'allowPrivilegeEscalation unset',
      spec({ securityContext: { ...hardened, allowPrivilegeEscalation: undefined } }),
      'Privilege Escalation',
    ],
    ['runAsNonRoot unset', spec({ securityContext: { ...hardened, runAsNonRoot: undefined } }), 'Running as Non-root'],
    [
      'runAsNonRoot false in a container',
      spec({ securityContext: { ...hardened, runAsNonRoot: false } }, { securityContext: { runAsNonRoot: true } }),
      'Running as Non-root',
    ],
    ['runAsUser 0', spec({ securityContext: { ...hardened, runAsUser: 0 } }), 'Running as Non-root user'],
    ['no seccomp profile', spec({ securityContext: { ...hardened, seccompProfile: undefined } }), 'Seccomp'],
    [
      'capabilities not dropping ALL',
      spec({ securityContext: { ...hardened, capabilities: { drop: ['NET_RAW'] } } }),
      'Capabilities',
    ],
    [
      'adding CHOWN',
      spec({ securityContext: { ...hardened, capabilities: { drop: ['ALL'], add: ['CHOWN'] } } }),
      'Capabilities',
    ],
  ];
  for (const [name, s, control] of cases) {
    test(`refuses ${name} (${control})`, () => {
      assert.ok(controls(s, 'restricted').includes(control), controls(s, 'restricted').join());
      assert.ok(!controls(s, 'baseline').includes(control) || control === 'Capabilities');
    });
  }
});

describe('namespace levels', () => {
  const ns = (name: string, level?: string) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: level ? { 'pod-security.kubernetes.io/enforce': level } : {} },
  });
  const privilegedDeployment = (namespace: string): K8sObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', namespace },
    spec: { template: { spec: { hostNetwork: true, containers: [{ name: 'c', image: 'x' }] } } },
  });
  const run = (objs: object[]) =>
    checkPodSecurity(
      buildCluster(
        objs.map((obj, index) => ({ file: 'f.yaml', index, obj: obj as K8sObject, underTest: true })),
        { components: [] },
      ),
    );
  test('privileged namespaces admit anything', () => {
    assert.deepEqual(run([ns('sys', 'privileged'), privilegedDeployment('sys')]), []);
  });
  test('a pod template is held to its namespace level', () => {
    const v = run([ns('app', 'baseline'), privilegedDeployment('app')]);
    assert.equal(v.length, 1);
    assert.match(v[0]?.reason ?? '', /^baseline: Host Namespaces/);
  });
  test('a namespace without an enforce level is a violation', () => {
    const v = run([ns('bare')]);
    assert.equal(v.length, 1);
    assert.equal(v[0]?.kind, 'Namespace');
  });
  test('a pod in a namespace that is not rendered is a violation', () => {
    const v = run([privilegedDeployment('nowhere')]);
    assert.match(v[0]?.reason ?? '', /not rendered/);
  });
});
