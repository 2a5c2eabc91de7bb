/**
 * Every component of the platform, in order. The first component listed in a namespace owns it:
 * its Application creates the Namespace (with the Pod Security labels) and the default-deny
 * policies, and the other components of that namespace sync after it.
 */
import type { Context } from '../engine/context.ts';
import type { Component } from '../engine/types.ts';
import { alloy } from './alloy.ts';
import { argoRollouts } from './argo-rollouts.ts';
import { argocd } from './argocd.ts';
import { certManager } from './cert-manager.ts';
import { chaosMesh } from './chaos-mesh.ts';
import { cloudnativePg } from './cloudnative-pg.ts';
import { edgeRoutes } from './edge-routes.ts';
import { falco } from './falco.ts';
import { gatekeeper } from './gatekeeper.ts';
import { gatekeeperConstraints } from './gatekeeper-constraints.ts';
import { gatekeeperTemplates } from './gatekeeper-templates.ts';
import { gitea } from './gitea.ts';
import { kubePrometheusStack } from './kube-prometheus-stack.ts';
import { kyverno } from './kyverno.ts';
import { kyvernoPolicies } from './kyverno-policies.ts';
import { loki } from './loki.ts';
import { lumenApi } from './lumen-api.ts';
import { lumenDb } from './lumen-db.ts';
import { metallb } from './metallb.ts';
import { metallbConfig } from './metallb-config.ts';
import { pki } from './pki.ts';
import { redis } from './redis.ts';
import { tempo } from './tempo.ts';
import { traefik } from './traefik.ts';
import { vault } from './vault.ts';
import { vaultSecretsOperator } from './vault-secrets-operator.ts';

/** A component module: builds one component from the render context. */
export type ComponentModule = (ctx: Context) => Component;

export const componentModules: readonly ComponentModule[] = [
  argocd,
  certManager,
  pki,
  gatekeeper,
  gatekeeperTemplates,
  gatekeeperConstraints,
  metallb,
  metallbConfig,
  vault,
  vaultSecretsOperator,
  cloudnativePg,
  lumenDb,
  traefik,
  edgeRoutes,
  redis,
  lumenApi,
  argoRollouts,
  chaosMesh,
  kyverno,
  kyvernoPolicies,
  kubePrometheusStack,
  loki,
  tempo,
  alloy,
  falco,
  gitea,
];
