/**
 * `lumen image build` and `lumen image fetch`, over @lumen/image (docs/image.md): lumen-api's image assembled without
 * any daemon from the inventory's pinned inputs, into an OCI image layout.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CliError, ExitCode } from '../errors.ts';
import type { CommandTable } from '../types.ts';
import {
  caFileUsage,
  exitCodes,
  inventoryAt,
  inventoryFlag,
  jsonFlag,
  parseFlags,
  printJson,
  usageError,
} from './supply/flags.ts';
import { registryFlags, targetRegistry } from './supply/registry-access.ts';
import { checkoutRevision } from './version.ts';

const image = () => import('@lumen/image');
const supply = () => import('@lumen/supply');

/** Where fetched inputs are kept between builds: `$XDG_CACHE_HOME/lumen/image-inputs` (an OCI layout's blob store). */
function defaultCache(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lumen', 'image-inputs');
}

const sourceFlags = { bundle: { type: 'string' }, cache: { type: 'string' } } as const;
const platformFlag = { platform: { type: 'string', multiple: true } } as const;

/** Inputs from the bundle when one is given (nothing downloaded), else from the cache (fetching what it lacks). */
function inputSource(values: { bundle?: string; cache?: string }) {
  return values.bundle !== undefined
    ? { bundle: resolve(values.bundle) }
    : { cache: resolve(values.cache ?? defaultCache()) };
}

/** `SOURCE_DATE_EPOCH` (whole seconds ≥ 0), else 0. */
function sourceDateEpoch(command: string): number {
  const value = process.env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === '') return 0;
  if (!/^\d+$/.test(value))
    throw usageError(command, `SOURCE_DATE_EPOCH must be whole seconds since 1970, got '${value}'`);
  return Number(value);
}

/** The context's commit for the revision annotation; none outside a git checkout. */
function revisionOf(root: string): { revision?: string } {
  const revision = checkoutRevision(root);
  return /^[0-9a-f]{40}/.test(revision) ? { revision } : {};
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export const commands: CommandTable = {
  'image build': {
    summary: "build lumen-api's image without a daemon, reproducibly, into an OCI image layout",
    usage: `usage: lumen image build [--out DIR] [--bundle B] [--cache DIR] [--platform P]... [--tag T]
                         [--context DIR] [--source-url URL] [--no-layer-cache] [--sbom FILE]
                         [--inventory DIR] [--json]

Assembles lumen-api's image for each platform (default linux/amd64 and linux/arm64) from the inventory's pinned
inputs (files.yaml entries with image: lumen-api: Debian packages and Node.js) and the repository: a base layer,
the production node_modules of apps/api as package-lock.json pins them (installed by 'npm ci'), and the
application (apps/api/src, migrations). The same inputs give the same digests on any machine; every timestamp is
SOURCE_DATE_EPOCH (default 0). Prints the index digest; the layout holds it under the tag.

  --out DIR          OCI image layout to write (default dist/lumen-api-image under the context)
  --bundle B         read the inputs from this bundle (the airgap); nothing is downloaded
  --cache DIR        keep fetched inputs and compressed layers here; fetch missing inputs unless --bundle
                     (default ~/.cache/lumen/image-inputs)
  --no-layer-cache   compress every layer afresh (the digests are the same either way)
  --sbom FILE        also write the image's CycloneDX SBOM to FILE (what a scanner reads)
  --platform P       linux/amd64 or linux/arm64 (repeatable; default both)
  --tag T            ref name in the layout (default the inventory's lumen-api tag)
  --context DIR      the repository root (default the inventory's parent directory)
  --source-url URL   org.opencontainers.image.source annotation (revision: the context's git commit)
  --inventory DIR    inventory directory (default the repository's inventory/)
  --json             print the digests, layers and contents as JSON
${exitCodes}`,
    async run(args) {
      const command = 'image build';
      const { values } = parseFlags(
        command,
        args,
        {
          out: { type: 'string' },
          ...sourceFlags,
          ...platformFlag,
          tag: { type: 'string' },
          context: { type: 'string' },
          'source-url': { type: 'string' },
          'no-layer-cache': { type: 'boolean' },
          sbom: { type: 'string' },
          ...inventoryFlag,
          ...jsonFlag,
        },
        false,
      );
      const source = inputSource(values);
      const created = sourceDateEpoch(command);
      const inventory = inventoryAt(values.inventory, false);
      const root = resolve(values.context ?? dirname(inventory.dir));
      const out = resolve(values.out ?? join(root, 'dist', 'lumen-api-image'));
      const { buildImage } = await image();
      const { Progress } = await supply();
      const progress = new Progress();
      const result = await buildImage({
        inventory,
        root,
        out,
        source,
        ...(values['no-layer-cache'] ? {} : { layerCache: resolve(values.cache ?? defaultCache()) }),
        ...(values.platform ? { platforms: values.platform } : {}),
        ...(values.tag ? { tag: values.tag } : {}),
        created,
        ...(values['source-url'] ? { sourceUrl: values['source-url'] } : {}),
        ...revisionOf(root),
        progress,
      });
      for (const p of result.platforms) {
        progress.note(`${p.platform}: ${p.manifest}  ${p.layers.map((l) => `${l.name} ${mib(l.size)}`).join(', ')}`);
      }
      if (values.sbom) {
        const { Layout } = await import('@lumen/oci');
        const layout = await Layout.open(out);
        const manifest = JSON.parse((await layout.readBlob(result.sbom.digest)).toString('utf8'));
        await writeFile(resolve(values.sbom), await layout.readBlob(manifest.layers[0].digest));
      }
      progress.finish(`built ${out}:${result.tag}`);
      if (values.json) printJson({ layout: out, ...result });
      else process.stdout.write(`${result.tag}@${result.digest}\n`);
      return 0;
    },
  },
  'image push': {
    summary: 'push a built image from its OCI layout into a registry by digest, with its SBOM',
    usage: `usage: lumen image push [LAYOUT] [--tag T] [--registry H:P] [--repository R] [--plain-http]
                        [--username U --password-env VAR] [--ca-file FILE]... [--inventory DIR] [--json]

Pushes the image LAYOUT holds under the tag (default dist/lumen-api-image, the inventory's lumen-api tag): the index,
its platform manifests and layers (blobs the registry has are skipped), then its CycloneDX SBOM under cosign's tag
sha256-<hex>.sbom (a referrer of the index where the registry has the referrers API). Prints
<registry>/<repository>:<tag>@<digest>: the digest 'lumen sign' and 'lumen release bump' take.

  --tag T            the image's ref name in the layout and its tag in the registry
  --registry H:P     target registry (default: site.yaml's registry and plainHttp)
  --repository R     repository (default: the inventory's lumen-api repository)
  --plain-http       speak plain HTTP to the registry
  --username U, --password-env VAR   basic or token credentials (the password from the environment)
${caFileUsage}
  --inventory DIR    inventory directory (default the repository's inventory/)
  --output-file F    append digest=<digest> and reference=<reference> lines to F (a workflow's $GITHUB_OUTPUT)
  --json             print the reference, digests and what was pushed as JSON
${exitCodes}`,
    async run(args) {
      const command = 'image push';
      const { values, positionals } = parseFlags(command, args, {
        tag: { type: 'string' },
        ...registryFlags,
        repository: { type: 'string' },
        'output-file': { type: 'string' },
        ...inventoryFlag,
        ...jsonFlag,
      });
      const [dir, extra] = positionals;
      if (extra !== undefined) throw usageError(command, 'at most one layout directory');
      const inventory = inventoryAt(values.inventory, false);
      const api = inventory.images.find((i) => i.name === 'lumen-api');
      const tag = values.tag ?? api?.tag;
      const repository = values.repository ?? api?.repository;
      if (!tag || !repository)
        throw usageError(command, 'no --tag/--repository given and the inventory has no lumen-api image');
      const registry = targetRegistry(command, values, inventory);
      const { pushImage } = await image();
      const { Progress } = await supply();
      const progress = new Progress();
      const result = await pushImage(resolve(dir ?? join(dirname(inventory.dir), 'dist', 'lumen-api-image')), tag, {
        registry,
        repository,
        progress,
      });
      progress.finish(`pushed ${result.reference}${result.sbom ? ` and its SBOM` : ''}`);
      if (values['output-file']) {
        // Appended as `key=value` lines: with $GITHUB_OUTPUT, later workflow steps read steps.<id>.outputs.digest.
        appendFileSync(values['output-file'], `digest=${result.digest}\nreference=${result.reference}\n`);
      }
      if (values.json) printJson(result);
      else process.stdout.write(`${result.reference}\n`);
      return 0;
    },
  },
  'image scan': {
    summary: 'the scan gate: fail on fixable vulnerabilities at or above a severity, unless a reviewed waiver holds',
    usage: `usage: lumen image scan (--sbom FILE [--db-repository H:P/PATH[:TAG]] [--cache-dir DIR] | --report FILE)
                        [--severity S] [--inventory DIR] [--json]

With --sbom, runs Trivy on the image's CycloneDX SBOM (written by 'lumen image build --sbom'): trivy sbom, offline
(no Java database, no version check, no telemetry), with the vulnerability database pulled from the database
repository into the cache directory, or the one the cache already holds (then nothing is contacted). With
--report, judges a Trivy JSON report made elsewhere (trivy image|sbom --format json: schema version 2). A finding
fails the gate when Trivy names a fixed version, its severity is at least S, and no waiver of the inventory's
waivers.yaml holds for it (same id, and package when the waiver names one, not expired: 'expires' is its last
day, UTC). Prints one line per failing or waived finding and a summary; unfixable and lower findings are counted,
and waivers that matched nothing are named (stale).

  --sbom FILE            the image's CycloneDX SBOM, scanned by Trivy (LUMEN_TRIVY, the tool cache, PATH)
  --db-repository R      Trivy's vulnerability database artifact (host[:port]/path[:tag]); default the airgap
                         registry's copy of ghcr.io/aquasecurity/trivy-db:2:
                         <site.yaml registry>/aquasecurity/trivy-db:2 (plain HTTP when site.yaml says plainHttp)
  --cache-dir DIR        Trivy's cache, where the database is kept (default ~/.cache/lumen/trivy)
  --report FILE          judge this Trivy report instead of running Trivy
  --severity S           UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL (default HIGH)
  --inventory DIR        inventory directory with waivers.yaml (default the repository's inventory/)
  --json                 print every finding with its verdict as JSON

Exit codes: 0 the gate passes, 1 a fixable finding at or above the severity is not waived, 2 bad usage, a report
that is not Trivy's, an SBOM Trivy refuses or an invalid waivers.yaml, 3 the database repository cannot be
reached, 4 the report or SBOM cannot be read, 5 Trivy is not installed.`,
    async run(args) {
      const command = 'image scan';
      const { values } = parseFlags(
        command,
        args,
        {
          report: { type: 'string' },
          sbom: { type: 'string' },
          'db-repository': { type: 'string' },
          'cache-dir': { type: 'string' },
          severity: { type: 'string' },
          ...inventoryFlag,
          ...jsonFlag,
        },
        false,
      );
      if ((values.report === undefined) === (values.sbom === undefined))
        throw usageError(command, 'give exactly one of --sbom FILE (run Trivy) and --report FILE');
      if (values.report !== undefined && (values['db-repository'] !== undefined || values['cache-dir'] !== undefined))
        throw usageError(command, '--db-repository and --cache-dir go with --sbom, not --report');
      const { describeFinding, judgeScan, parseTrivyReport, scanSbomWithTrivy, severities, trivyDbAirgapPath } =
        await image();
      const severity = (values.severity ?? 'HIGH').toUpperCase();
      if (!(severities as readonly string[]).includes(severity)) {
        throw usageError(command, `--severity must be one of ${severities.join(', ')}, got '${values.severity}'`);
      }
      // The waivers first: an invalid waivers.yaml is refused before Trivy runs.
      const inventory = inventoryAt(values.inventory, false);
      const input = (values.report ?? values.sbom) as string;
      let text: string;
      try {
        text = readFileSync(input, 'utf8');
      } catch (err) {
        throw new CliError(
          'IMAGE_IO',
          `image scan: cannot read ${input}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          ExitCode.io,
        );
      }
      if (values.sbom !== undefined) {
        // Default: the airgap registry's copy of Trivy's database, over plain HTTP when site.yaml says so.
        const site = values['db-repository'] === undefined && inventory.site.registry;
        if (values['db-repository'] === undefined && !site)
          throw usageError(command, "no --db-repository given, and the inventory's site.yaml names no registry");
        text = await scanSbomWithTrivy({
          sbom: resolve(values.sbom),
          cacheDir: resolve(values['cache-dir'] ?? join(dirname(defaultCache()), 'trivy')),
          dbRepository: values['db-repository'] ?? `${site}/${trivyDbAirgapPath}`,
          insecure: site ? (inventory.site.plainHttp ?? false) : false,
        });
      }
      const verdict = judgeScan(parseTrivyReport(text, values.report ?? `trivy's report on ${values.sbom}`), {
        severity: severity as (typeof severities)[number],
        waivers: inventory.waivers,
        today: new Date().toISOString().slice(0, 10),
      });
      if (values.json) printJson(verdict);
      else {
        for (const f of verdict.findings.filter((f) => f.verdict === 'fail' || f.verdict === 'waived')) {
          process.stdout.write(`${describeFinding(f)}\n`);
        }
        for (const w of verdict.unused)
          process.stderr.write(
            `note: waiver ${w.id}${w.package ? ` (${w.package})` : ''} matched nothing: remove it\n`,
          );
        const count = (v: string) => verdict.findings.filter((f) => f.verdict === v).length;
        process.stderr.write(
          `lumen image scan: ${verdict.passed ? 'passed' : 'FAILED'} at ${severity}: ${count('fail')} failing, ${count('waived')} waived, ${count('unfixable')} unfixable, ${count('below')} below ${severity}\n`,
        );
      }
      return verdict.passed ? ExitCode.ok : ExitCode.failed;
    },
  },
  'image fetch': {
    summary: "fetch the pinned inputs of lumen-api's image into the cache (the connected zone)",
    usage: `usage: lumen image fetch [--cache DIR] [--platform P]... [--inventory DIR]

Downloads every input of lumen-api's image that the cache lacks (files.yaml entries with image: lumen-api), each
checked against lock.yaml, so that 'lumen image build' then needs no network.

  --cache DIR        where to keep them (default ~/.cache/lumen/image-inputs)
  --platform P       linux/amd64 or linux/arm64 (repeatable; default both)
  --inventory DIR    inventory directory (default the repository's inventory/)
${exitCodes}`,
    async run(args) {
      const command = 'image fetch';
      const { values } = parseFlags(
        command,
        args,
        { cache: sourceFlags.cache, ...platformFlag, ...inventoryFlag },
        false,
      );
      const inventory = inventoryAt(values.inventory, false);
      const { imageInputFiles, openInputs } = await image();
      const { Progress } = await supply();
      const progress = new Progress();
      const { fetch } = await openInputs(inputSource(values), progress);
      const seen = new Set<string>();
      for (const platform of values.platform ?? ['linux/amd64', 'linux/arm64']) {
        for (const file of imageInputFiles(inventory, 'lumen-api', platform)) {
          if (seen.has(file.name)) continue;
          seen.add(file.name);
          await fetch(file);
        }
      }
      progress.finish(`${seen.size} inputs in the cache`);
      return 0;
    },
  },
};
