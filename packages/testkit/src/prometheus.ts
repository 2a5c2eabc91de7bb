/**
 * A real Prometheus (Debian `prometheus`, 2.42) scraping given targets on a free loopback port.
 *
 * The first scraped sample arrives seconds after start even with a short scrape interval
 * (docs/testing.md), so `waitForTargets()` polls for up to 30 s by default.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type Daemon, instanceDir, removeInstanceDir, startDaemon, waitFor, withPortRetry } from './daemon.ts';
import { HarnessError } from './errors.ts';

const prometheusBin = process.env.LUMEN_PROMETHEUS_BIN ?? '/usr/bin/prometheus';
/** Path of `promtool`, for `promtool check rules` / `promtool test rules` in tests. */
export const promtoolBin = process.env.LUMEN_PROMTOOL_BIN ?? '/usr/bin/promtool';

export interface ScrapeTarget {
  /** `host:port` to scrape. */
  target: string;
  /** Static labels added to every series of this target (as a ServiceMonitor's relabeling would). */
  labels?: Record<string, string>;
}

export interface StartPrometheusOptions {
  /** What to scrape: `host:port` strings or targets with labels. */
  targets: Array<string | ScrapeTarget>;
  /** The `job` label. Default `lumen-api`. */
  job?: string;
  /** Default `/metrics`. */
  metricsPath?: string;
  /** Scrape and rule evaluation interval. Default `1s`. */
  interval?: string;
  /** Rule files (recording/alerting rules) to load. */
  ruleFiles?: string[];
}

/** A value of an instant-query vector result. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface Prometheus {
  readonly url: string;
  readonly port: number;
  /** Instant query through the HTTP API; throws on a query error. */
  query(expr: string): Promise<Sample[]>;
  /** Raw `/api/v1/query` JSON `data` (for scalar results or matrix checks). */
  queryRaw(expr: string): Promise<{ resultType: string; result: unknown }>;
  /** Waits until every target is up (`up == 1`) and has been scraped at least `scrapes` times. */
  waitForTargets(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts Prometheus scraping `targets`. Call `close()` in `after()`. */
export async function startPrometheus(opts: StartPrometheusOptions): Promise<Prometheus> {
  if (!existsSync(prometheusBin))
    throw new HarnessError('HARNESS_MISSING', `${prometheusBin} not found (apt-get install prometheus)`);
  const dir = instanceDir('prometheus');
  const job = opts.job ?? 'lumen-api';
  const interval = opts.interval ?? '1s';
  const targets = opts.targets.map((t) => (typeof t === 'string' ? { target: t } : t));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(
    configFile,
    stringify({
      global: { scrape_interval: interval, evaluation_interval: interval },
      rule_files: opts.ruleFiles ?? [],
      scrape_configs: [
        {
          job_name: job,
          metrics_path: opts.metricsPath ?? '/metrics',
          static_configs: targets.map((t) => ({ targets: [t.target], ...(t.labels ? { labels: t.labels } : {}) })),
        },
      ],
    }),
  );
  let port = 0;
  const daemon: Daemon = await withPortRetry(async (p) => {
    port = p;
    return startDaemon(
      {
        name: 'prometheus',
        bin: prometheusBin,
        args: [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${p}`,
          '--log.level=warn',
        ],
        dir,
        logName: 'prometheus',
      },
      async () => (await fetch(`http://127.0.0.1:${p}/-/ready`)).status === 200,
    );
  });
  const url = `http://127.0.0.1:${port}`;

  const queryRaw = async (expr: string) => {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data: { resultType: string; result: unknown };
    };
    if (body.status !== 'success') throw new HarnessError('HARNESS_QUERY', `prometheus query ${expr}: ${body.error}`);
    return body.data;
  };
  const query = async (expr: string): Promise<Sample[]> => {
    const data = await queryRaw(expr);
    if (data.resultType !== 'vector')
      throw new HarnessError('HARNESS_QUERY', `prometheus query ${expr}: ${data.resultType}, not a vector`);
    return (data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((r) => ({
      metric: r.metric,
      value: Number(r.value[1]),
    }));
  };

  return {
    url,
    port,
    query,
    queryRaw,
    async waitForTargets(timeoutMs = 30_000) {
      await waitFor(
        `prometheus to scrape ${targets.map((t) => t.target).join(', ')}`,
        async () => {
          const up = await query(`up{job="${job}"} == 1`);
          return up.length === targets.length;
        },
        timeoutMs,
        250,
      );
    },
    async close() {
      await daemon.stop('SIGKILL');
      removeInstanceDir(dir);
    },
  };
}
