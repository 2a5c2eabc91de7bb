/** CloudNativePG operator (seed: wave 1, namespace cnpg-system, CRDs Cluster/Backup). */

import { flow, fromNodes, tcp, toApiServer } from '../blocks/flows.ts';
import type { Context } from '../engine/context.ts';
import type { Component } from '../engine/types.ts';

const ns = 'cnpg-system';

export function cloudnativePg(ctx: Context): Component {
  const p = ctx.imageParts('cloudnative-pg');
  return {
    name: 'cloudnative-pg',
    namespace: ns,
    podSecurity: 'restricted',
    summary: 'CloudNativePG operator',
    helm: {
      chart: 'cloudnative-pg',
      values: {
        // The chart templates `image.repository:image.tag` (no digest key) into the container and
        // OPERATOR_IMAGE_NAME (the image the operator puts into instance pods' bootstrap init
        // container); `tag@digest` pins both. No template parses the tag.
        image: { repository: p.repositoryWithRegistry, tag: p.tagAtDigest },
        podLabels: { app: 'cloudnative-pg', tier: 'database' },
        config: { data: { INHERITED_LABELS: 'app, tier' } },
        monitoring: { podMonitorEnabled: false },
      },
    },
    providesCrds: [
      'clusters.postgresql.cnpg.io',
      'backups.postgresql.cnpg.io',
      'scheduledbackups.postgresql.cnpg.io',
      'poolers.postgresql.cnpg.io',
      'imagecatalogs.postgresql.cnpg.io',
      'clusterimagecatalogs.postgresql.cnpg.io',
      'databases.postgresql.cnpg.io',
      'databaseroles.postgresql.cnpg.io',
      'publications.postgresql.cnpg.io',
      'subscriptions.postgresql.cnpg.io',
      'failoverquorums.postgresql.cnpg.io',
    ],
    objects: [],
    workloads: [
      {
        name: 'cloudnative-pg',
        kind: 'Deployment',
        source: 'chart',
        podLabels: { 'app.kubernetes.io/name': 'cloudnative-pg', 'app.kubernetes.io/instance': 'cloudnative-pg' },
        ports: [
          { port: 9443, name: 'webhook-server' },
          { port: 8080, name: 'metrics' },
        ],
      },
    ],
    flows: [
      toApiServer('cloudnative-pg/cloudnative-pg', 'the operator reconciles Clusters'),
      fromNodes('cloudnative-pg/cloudnative-pg', tcp(9443), 'the API server calls the validating/mutating webhooks'),
      flow(
        'cloudnative-pg/cloudnative-pg',
        'lumen-db/lumen-db',
        tcp(8000),
        'the operator reads instance status from each instance manager',
      ),
    ],
  };
}
