/**
 * The real Trivy behind the scan gate (docs/image.md): `trivy sbom` on the CycloneDX SBOM that `lumen image build
 * --sbom` writes, against a vulnerability database pulled from an OCI repository (in the airgap, the site's
 * registry). Found like every engine: LUMEN_TRIVY, then the tool cache, then PATH. Nothing but the database
 * repository is contacted: no Java database, no version check, no telemetry, no online lookups.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { locateTool } from '@lumen/testkit/tools';
import { ImageError, ImageErrorCode } from './errors.ts';

export interface TrivySbomScan {
  /** The CycloneDX SBOM to scan. */
  sbom: string;
  /** Trivy's cache directory; its `db/` holds the vulnerability database once fetched. */
  cacheDir: string;
  /** `host[:port]/path[:tag]` of the database artifact (Trivy's `--db-repository`), used while the cache has none. */
  dbRepository: string;
  /** Plain HTTP (or TLS without verification) to that registry: Trivy's `--insecure`. */
  insecure?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Where the airgap registry serves Trivy's database: the path of ghcr.io/aquasecurity/trivy-db:2 without its host,
 * as every upstream artifact is mirrored (docs/inventory.md).
 */
export const trivyDbAirgapPath = 'aquasecurity/trivy-db:2';

/** True when `cacheDir` already holds a database Trivy can use without fetching (trivy.db and its metadata). */
export function hasTrivyDatabase(cacheDir: string): boolean {
  return existsSync(join(cacheDir, 'db', 'trivy.db')) && existsSync(join(cacheDir, 'db', 'metadata.json'));
}

/** Path of the trivy binary; IMAGE_SCANNER_MISSING (exit 5) naming where it looked. */
export function findTrivy(env: NodeJS.ProcessEnv = process.env): string {
  const found = locateTool('trivy', env);
  if ('missing' in found) throw new ImageError(ImageErrorCode.scannerMissing, found.missing);
  return found.path;
}

/**
 * Trivy's last FATAL/ERROR entry, without timestamp and level, on one line: what went wrong, in its own words. An
 * entry that lists several errors ("1 error occurred:") continues on the lines after it; those are the cause.
 */
function lastError(stderr: string): { entry: string; cause: string } {
  const lines = stderr.split('\n');
  const at = lines.findLastIndex((l) => /\t(FATAL|ERROR)\t/.test(l));
  const oneLine = (parts: string[]) => parts.join(' ').replace(/\s+/g, ' ').trim();
  if (at === -1) return { entry: oneLine(lines.slice(-3)), cause: '' };
  const entry = oneLine([(lines[at] as string).replace(/^\S+\t(FATAL|ERROR)\t/, '')]);
  const cause = oneLine(lines.slice(at + 1).map((l) => l.replace(/^\s*\*\s*/, '')));
  return { entry: cause ? `${entry} ${cause}` : entry, cause };
}

/**
 * Runs `trivy sbom --format json` and returns the report's text (schema version 2, for `parseTrivyReport`). A cache
 * that already holds a database is used as it is (`--skip-db-update`): the scan then contacts nothing at all.
 */
export function scanSbomWithTrivy(options: TrivySbomScan): Promise<string> {
  const trivy = findTrivy(options.env);
  const cached = hasTrivyDatabase(options.cacheDir);
  const args = [
    'sbom',
    '--format',
    'json',
    '--scanners',
    'vuln',
    '--cache-dir',
    options.cacheDir,
    '--offline-scan',
    '--skip-java-db-update',
    '--skip-version-check',
    '--disable-telemetry',
    '--no-progress',
    '--quiet',
    ...(cached ? ['--skip-db-update'] : ['--db-repository', options.dbRepository]),
    ...(options.insecure ? ['--insecure'] : []),
    options.sbom,
  ];
  return new Promise((resolve, reject) => {
    const child = execFile(
      trivy,
      args,
      { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8', env: options.env ?? process.env },
      (err, stdout, stderr) => {
        if (!err) {
          resolve(stdout);
          return;
        }
        if (typeof (err as NodeJS.ErrnoException).code === 'string') {
          reject(new ImageError(ImageErrorCode.scannerMissing, `cannot run ${trivy}: ${err.message}`, { cause: err }));
          return;
        }
        const { entry, cause } = lastError(stderr);
        if (/failed to download vulnerability DB|OCI repository error/.test(stderr)) {
          reject(
            new ImageError(
              ImageErrorCode.databaseUnreachable,
              `trivy cannot fetch the vulnerability database from ${options.dbRepository}: ${cause || entry}`,
            ),
          );
          return;
        }
        reject(new ImageError(ImageErrorCode.scannerFailed, `trivy sbom ${options.sbom} failed: ${entry}`));
      },
    );
    child.stdin?.end();
  });
}
