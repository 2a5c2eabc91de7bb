/**
 * @lumen/testkit — real servers for lumen's tests, on free loopback ports and temporary directories,
 * from the Debian binaries. Never touches the machine's own PostgreSQL (5432) or Redis (6379).
 *
 * ```ts
 * const pg = await startPostgres({ replica: true });
 * after(() => pg.close());
 * ```
 * Servers still running when the test process exits are killed; a killed test run is reaped by the next.
 * Set LUMEN_TESTKIT_KEEP=1 to keep data directories and logs for a post-mortem.
 */
export { freePort, secret, waitFor } from './daemon.ts';
export type { Datastores, RedisOf, StartDatastoresOptions } from './datastores.ts';
export { startDatastores } from './datastores.ts';
export { HarnessError } from './errors.ts';
export type { Podman } from './podman.ts';
export { startPodman } from './podman.ts';
export type { PgCluster, PgNode, PgReplica, StartPostgresOptions } from './postgres.ts';
export { startPostgres, withClient } from './postgres.ts';
export type { Prometheus, Sample, ScrapeTarget, StartPrometheusOptions } from './prometheus.ts';
export { promtoolBin, startPrometheus } from './prometheus.ts';
export type { RedisCluster, RedisNode, StartRedisOptions } from './redis.ts';
export { startRedis } from './redis.ts';
export type { Registry, StartRegistryOptions } from './registry.ts';
export { startRegistry } from './registry.ts';
export type { SelfSignedCertificate } from './tls.ts';
export { selfSignedCertificate } from './tls.ts';
