/**
 * The scan gate of the delivery pipeline (docs/image.md): a Trivy JSON report (schema version 2, from
 * `trivy image` or `trivy sbom`) is judged against a severity and the inventory's reviewed waivers. A finding fails
 * the gate when it is fixable (Trivy names a fixed version), at or above the severity, and not waived by a waiver
 * that has not expired. Unfixable findings and those below the severity are reported, never failed.
 */
import type { Waiver } from '@lumen/inventory';
import { ImageError, ImageErrorCode } from './errors.ts';

export const severities = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof severities)[number];

export interface Finding {
  id: string;
  package: string;
  installed: string;
  fixed: string;
  severity: Severity;
  target: string;
  title: string;
  verdict: 'fail' | 'waived' | 'unfixable' | 'below';
  /** The waiver that waived it, or an expired one that matched (then `verdict` is fail). */
  waiver?: { reason: string; expires: string; expired: boolean };
}

export interface ScanVerdict {
  passed: boolean;
  severity: Severity;
  findings: Finding[];
  /** Waivers that matched no finding (stale: remove them at the next review). */
  unused: Waiver[];
}

interface TrivyVulnerability {
  VulnerabilityID?: unknown;
  PkgName?: unknown;
  InstalledVersion?: unknown;
  FixedVersion?: unknown;
  Severity?: unknown;
  Title?: unknown;
}

/** Reads a Trivy JSON report; IMAGE_USAGE (exit 2) naming what is wrong when it is not one. */
export function parseTrivyReport(
  text: string,
  what: string,
): Array<{ target: string; vulnerabilities: TrivyVulnerability[] }> {
  let report: { SchemaVersion?: unknown; Results?: unknown };
  try {
    report = JSON.parse(text);
  } catch {
    throw new ImageError(ImageErrorCode.usage, `${what} is not JSON (a Trivy report is 'trivy … --format json')`);
  }
  if (report?.SchemaVersion !== 2) {
    throw new ImageError(
      ImageErrorCode.usage,
      `${what}: not a Trivy report of schema version 2 (SchemaVersion: ${String(report?.SchemaVersion)})`,
    );
  }
  if (report.Results !== undefined && !Array.isArray(report.Results)) {
    throw new ImageError(ImageErrorCode.usage, `${what}: Results is not a list`);
  }
  return ((report.Results as Array<{ Target?: unknown; Vulnerabilities?: unknown }>) ?? []).map((r, i) => {
    if (r.Vulnerabilities !== undefined && r.Vulnerabilities !== null && !Array.isArray(r.Vulnerabilities)) {
      throw new ImageError(ImageErrorCode.usage, `${what}: Results[${i}].Vulnerabilities is not a list`);
    }
    return {
      target: String(r.Target ?? ''),
      vulnerabilities: (r.Vulnerabilities as TrivyVulnerability[] | null) ?? [],
    };
  });
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** The last day a waiver holds has passed (UTC) on `today` (YYYY-MM-DD). */
const isExpired = (w: Waiver, today: string) => w.expires < today;

/**
 * Judges a report: `severity` is the lowest that fails; `today` (YYYY-MM-DD, UTC) decides which waivers hold.
 */
export function judgeScan(
  results: ReturnType<typeof parseTrivyReport>,
  options: { severity: Severity; waivers: Waiver[]; today: string },
): ScanVerdict {
  const threshold = severities.indexOf(options.severity);
  const used = new Set<Waiver>();
  const findings: Finding[] = [];
  for (const { target, vulnerabilities } of results) {
    for (const v of vulnerabilities) {
      const id = str(v.VulnerabilityID);
      const pkg = str(v.PkgName);
      const severity = (severities as readonly string[]).includes(str(v.Severity))
        ? (str(v.Severity) as Severity)
        : 'UNKNOWN';
      const fixed = str(v.FixedVersion);
      const matching = options.waivers.filter((w) => w.id === id && (w.package === undefined || w.package === pkg));
      const holding = matching.find((w) => !isExpired(w, options.today));
      const waiver = holding ?? matching[0];
      if (waiver) used.add(waiver);
      let verdict: Finding['verdict'];
      if (severities.indexOf(severity) < threshold) verdict = 'below';
      else if (fixed === '') verdict = 'unfixable';
      else verdict = holding ? 'waived' : 'fail';
      findings.push({
        id,
        package: pkg,
        installed: str(v.InstalledVersion),
        fixed,
        severity,
        target,
        title: str(v.Title),
        verdict,
        ...(waiver
          ? { waiver: { reason: waiver.reason, expires: waiver.expires, expired: isExpired(waiver, options.today) } }
          : {}),
      });
    }
  }
  const order = (f: Finding) => -severities.indexOf(f.severity);
  findings.sort((a, b) => order(a) - order(b) || a.id.localeCompare(b.id) || a.package.localeCompare(b.package));
  return {
    passed: !findings.some((f) => f.verdict === 'fail'),
    severity: options.severity,
    findings,
    unused: options.waivers.filter((w) => !used.has(w)),
  };
}

/** One line per finding that fails or is waived, as `lumen image scan` prints them. */
export function describeFinding(f: Finding): string {
  const what = `${f.id} ${f.severity} ${f.package} ${f.installed}${f.fixed ? ` → ${f.fixed}` : ''} (${f.target})`;
  if (f.verdict === 'waived') return `waived: ${what} until ${f.waiver?.expires}: ${f.waiver?.reason}`;
  if (f.waiver?.expired) return `fail: ${what}: fixable; its waiver expired on ${f.waiver.expires}`;
  return `fail: ${what}: fixable, not waived`;
}
