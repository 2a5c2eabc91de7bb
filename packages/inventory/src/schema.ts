/**
 * The schemas of the inventory files, declared once: they drive validation, the TypeScript
 * types and docs/inventory.md. Every object is strict — an unknown field is an error, because
 * a misspelt `platfroms:` silently ignored is exactly how versions drift.
 */
import { DIGEST_PATTERN, parseReferenceParts, TAG_PATTERN } from '@lumen/oci';
import { z } from 'zod';

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOST_PORT = /^[a-zA-Z0-9.-]+(:\d{1,5})?$/;
// SemVer 2.0 with an optional leading 'v' (Helm accepts both; K3s versions carry '+k3s1').
const SEMVER = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** A stable short id: lowercase, digits and '-', as Kubernetes names. */
export const nameSchema = z.string().regex(NAME, 'must be a short id: lowercase letters, digits and "-"');

/** `os/arch[/variant]`, e.g. `linux/amd64`. */
export const platformSchema = z.string().regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, 'must be os/arch[/variant]');

const digestSchema = z.string().regex(DIGEST_PATTERN, 'must be sha256:<64 lowercase hex>');

/** An image tag: present, valid, and never the mutable `latest`. */
export const tagSchema = z
  .string()
  .regex(TAG_PATTERN, 'must be a valid tag (letters, digits, "_", ".", "-", at most 128)')
  .refine((t) => t !== 'latest', 'must not be "latest": pin a version');

/** An upstream repository without tag or digest, with an explicit registry host (`docker.io/library/redis`). */
const upstreamSourceSchema = z.string().superRefine((text, ctx) => {
  try {
    const ref = parseReferenceParts(text);
    if (!ref.host)
      ctx.addIssue({ code: 'custom', message: `must start with the registry host (e.g. docker.io/${text})` });
    if (ref.tag || ref.digest)
      ctx.addIssue({ code: 'custom', message: 'must not carry a tag or digest: use the tag field' });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

/** One image of the platform. */
export const imageSchema = z
  .strictObject({
    /** Short stable id other code refers to (`cert-manager-controller`). */
    name: nameSchema,
    /**
     * `upstream` (default): pulled from `source` into the bundle. `build`: built by lumen's CI and pushed
     * straight into the airgap registry at `repository`; its tag and digest are written by `lumen release bump`.
     */
    origin: z.enum(['upstream', 'build']).default('upstream'),
    /** Upstream repository with host, no tag (`docker.io/library/traefik`). Required for `upstream` images. */
    source: upstreamSourceSchema.optional(),
    /** Path in the airgap registry of a `build` image (`lumen/lumen-api`). */
    repository: z.string().optional(),
    /** Tag to pull; the lock pins it to a digest. */
    tag: tagSchema,
    /**
     * `true`: an OCI artifact, not an image a node runs (Trivy's vulnerability database): one manifest, whatever its
     * config, carried and pushed as it is. It has no `platforms`.
     */
    artifact: z.boolean().default(false),
    /** Platforms to carry across the gap (none for an artifact). */
    platforms: z.array(platformSchema).default([]),
    /** The platform component (Argo CD Application) that runs it. */
    component: nameSchema,
    /** Free text: why this image, what in it matters. */
    note: z.string().optional(),
  })
  .superRefine((img, ctx) => {
    if (img.origin === 'upstream') {
      if (!img.source) ctx.addIssue({ code: 'custom', path: ['source'], message: 'required for an upstream image' });
      if (img.repository !== undefined)
        ctx.addIssue({ code: 'custom', path: ['repository'], message: 'only for origin: build (use source)' });
    } else {
      if (img.source !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['source'],
          message: 'a build image has no upstream source (use repository)',
        });
      if (!img.repository) {
        ctx.addIssue({ code: 'custom', path: ['repository'], message: 'required for a build image' });
      } else {
        try {
          const ref = parseReferenceParts(img.repository);
          if (ref.host || ref.tag || ref.digest) throw new Error('must be a bare path');
        } catch {
          ctx.addIssue({
            code: 'custom',
            path: ['repository'],
            message: 'must be a bare repository path (lumen/lumen-api)',
          });
        }
      }
    }
    if (img.artifact && img.platforms.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['platforms'],
        message: 'an artifact is one manifest: it has no platforms',
      });
    if (!img.artifact && img.platforms.length === 0)
      ctx.addIssue({ code: 'custom', path: ['platforms'], message: 'required: at least one platform to carry' });
    if (img.artifact && img.origin === 'build')
      ctx.addIssue({ code: 'custom', path: ['artifact'], message: 'only upstream artifacts are carried' });
    if (new Set(img.platforms).size !== img.platforms.length)
      ctx.addIssue({ code: 'custom', path: ['platforms'], message: 'lists a platform twice' });
  });

/** `images.yaml`. */
/** `images.yaml` (optional: a charts-only inventory has none). */
export const imagesFileSchema = z.strictObject({ images: z.array(imageSchema) });

/**
 * An `http://` source must say so (`plainHttp: true`), so plain HTTP is never a typo's accident; the flag on any
 * other source would mean nothing, so it is refused too.
 */
function plainHttpIssue(url: string, plainHttp: boolean | undefined, path: string[], ctx: z.RefinementCtx): void {
  if (url.startsWith('http://') && plainHttp !== true)
    ctx.addIssue({
      code: 'custom',
      path,
      message: 'is http://: add plainHttp: true to this entry to allow plain HTTP',
    });
  if (!url.startsWith('http://') && plainHttp === true)
    ctx.addIssue({ code: 'custom', path: ['plainHttp'], message: 'only applies to an http:// source' });
}

/** One Helm chart of the platform. */
export const chartSchema = z
  .strictObject({
    /** Short stable id (`traefik`). */
    name: nameSchema,
    /**
     * Classic repository base URL (`https://traefik.github.io/charts`) or OCI repository (`oci://ghcr.io/org/charts`);
     * `http://` only with `plainHttp: true`.
     */
    repo: z
      .string()
      .regex(
        /^(https?:\/\/|oci:\/\/)[^\s]+[^/\s]$/,
        'must be an https://, http:// or oci:// URL without a trailing slash',
      ),
    /** Allows an `http://` repo: its index and archives travel unencrypted (their digests are still pinned). */
    plainHttp: z.boolean().optional(),
    /** Chart name in that repository. */
    chart: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a chart name'),
    /** Exact chart version (SemVer). */
    version: z.string().regex(SEMVER, 'must be an exact SemVer version (no ranges)'),
    /** The platform component (Argo CD Application) that installs it. */
    component: nameSchema,
    /** Names of the images (from images.yaml) the chart deploys; the renderer points its values at them. */
    images: z.array(nameSchema).default([]),
    /** Free text. */
    note: z.string().optional(),
  })
  .superRefine((chart, ctx) => {
    plainHttpIssue(chart.repo, chart.plainHttp, ['repo'], ctx);
    if (chart.repo.startsWith('oci://')) {
      try {
        const ref = parseReferenceParts(chart.repo.slice('oci://'.length));
        if (!ref.host || ref.tag || ref.digest) throw new Error('bad');
      } catch {
        ctx.addIssue({ code: 'custom', path: ['repo'], message: 'must be oci://host[:port]/path' });
      }
    }
  });

/** `charts.yaml` (optional: an images-only inventory has none). */
export const chartsFileSchema = z.strictObject({ charts: z.array(chartSchema) });

/**
 * One file carried across the gap: downloaded (the K3s binary, its airgap image tarball, the install script: `url`,
 * pinned by lock.yaml) or built by this repository (lumen's own executables: `path`, pinned by the bundle that
 * carries them — their bytes change with every commit, so no committed lock could hold them).
 */
export const fileSchema = z
  .strictObject({
    /** Short stable id (`k3s-arm64`). */
    name: nameSchema,
    /** Download URL: https://, or http:// with `plainHttp: true`. */
    url: z
      .string()
      .regex(/^https?:\/\/\S+$/, 'must be an https:// or http:// URL')
      .optional(),
    /** Allows an `http://` url: the file travels unencrypted (its digest is still pinned by lock.yaml). */
    plainHttp: z.boolean().optional(),
    /** A file this repository builds, relative to the repository root (the inventory's parent): `dist/lumen-linux-amd64`. */
    path: z
      .string()
      .regex(/^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))\S+$/, 'must be a relative path inside the repository')
      .optional(),
    /** Upstream version of the file (`v1.33.5+k3s1`). */
    version: z.string().min(1),
    /** Platform it is for; absent for platform-independent files. */
    platform: platformSchema.optional(),
    /**
     * The image this file is an input of (`lumen-api`): a Debian package (`.deb`) or an npm package of Node.js
     * (`node-linux-<arch>`) that `lumen image build` assembles that image's base from (docs/image.md).
     */
    image: nameSchema.optional(),
    /** Where the file goes on the node (documentation for the provisioning roles). */
    installPath: z.string().startsWith('/').optional(),
    /** Free text. */
    note: z.string().optional(),
  })
  .refine((f) => (f.url === undefined) !== (f.path === undefined), {
    message: 'needs exactly one of url (downloaded) and path (built here)',
  })
  .superRefine((file, ctx) => {
    if (file.url !== undefined) plainHttpIssue(file.url, file.plainHttp, ['url'], ctx);
  });

/** `files.yaml` (optional). */
export const filesFileSchema = z.strictObject({ files: z.array(fileSchema) });

/**
 * A reviewed exception to the image scan gate (`lumen image scan`, docs/image.md): one vulnerability, optionally of
 * one package, accepted until a date. An expired waiver waives nothing.
 */
export const waiverSchema = z.strictObject({
  /** The vulnerability (`CVE-2026-1234`, `GHSA-…`). */
  id: z.string().regex(/^[A-Za-z][A-Za-z0-9._:-]+$/, 'must be a vulnerability ID such as CVE-2026-1234'),
  /** Only this package (Debian or npm name); absent: every package with that vulnerability. */
  package: z.string().min(1).optional(),
  /** Why it is accepted, for the reviewer. */
  reason: z.string().min(10, 'must say why (at least 10 characters)'),
  /** Last day the waiver holds (`YYYY-MM-DD`, UTC). */
  expires: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD (quote it)')
    .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), 'is not a real date'),
});

export const waiversFileSchema = z.strictObject({ waivers: z.array(waiverSchema) });

/**
 * A CI action the airgapped Gitea serves from its own mirror (Gitea's `DEFAULT_ACTIONS_URL` pointing at itself): the
 * only `uses:` the workflows in `.gitea/workflows/` may name, each pinned by commit.
 */
export const actionSchema = z.strictObject({
  name: nameSchema,
  /** What a workflow writes after `uses:` before the `@`: `actions/checkout`. */
  uses: z.string().regex(/^[a-z0-9._-]+\/[a-z0-9._-]+$/, 'must be owner/repository'),
  /** The upstream repository it is mirrored from. */
  source: z.string().regex(/^https:\/\/\S+$/, 'must be an https:// URL'),
  /** The release it is (`v4.2.2`). */
  version: z.string().min(1),
  /** The commit of that release: workflows pin `uses: <uses>@<commit>`. */
  commit: z.string().regex(/^[0-9a-f]{40}$/, 'must be a full 40-hex commit'),
});

export const actionsFileSchema = z.strictObject({ actions: z.array(actionSchema) });

/** A node of the site. */
export const nodeSchema = z.strictObject({
  name: nameSchema,
  ip: z.string().regex(IPV4, 'must be an IPv4 address'),
  /** K3s role: `server` (control plane) or `agent` (worker). */
  role: z.enum(['server', 'agent']),
  cpus: z.number().int().positive(),
  memoryGiB: z.number().positive(),
  diskGiB: z.number().int().positive(),
  /** Labels beyond the ones K3s sets (hostname, os, role): what nodeSelectors and node affinity may select on. */
  labels: z.record(z.string(), z.string()).optional(),
});

/** The fields of `site.yaml`, declared once for the full site and for the carry-only one. */
const siteFields = {
  /** Airgap registry `host:port` every image is pulled from (`192.168.2.2:5000`). */
  registry: z.string().regex(HOST_PORT, 'must be host[:port], without scheme or path'),
  /** True when the airgap registry speaks plain HTTP (K3s mirrors then need `http://`). */
  plainHttp: z.boolean(),
  /** Repository path under the registry where charts are pushed as Helm OCI artifacts. Default `charts`. */
  chartsPath: z
    .string()
    .regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/)
    .default('charts'),
  /** DNS domain of the platform's ingress names (`airgap.local`). */
  domain: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, 'must be a DNS domain'),
  /** Node network in CIDR notation (`192.168.2.0/24`). */
  network: z.string().regex(/^[\d.]+\/\d{1,2}$/, 'must be a CIDR'),
  /** Cluster nodes; exactly the first `server` node hosts the registry in the reference site. */
  nodes: z.array(nodeSchema).min(1),
  /** MetalLB address pool, `first-last` (`192.168.2.100-192.168.2.120`). */
  metallbPool: z.string().regex(/^[\d.]+-[\d.]+$/, 'must be first-last IPv4 range'),
};

/** `site.yaml`: where the platform runs (what render, check and the provisioning read: every field). */
export const siteSchema = z.strictObject(siteFields).superRefine((site, ctx) => {
  const [first, last] = site.metallbPool.split('-') as [string, string];
  if (!IPV4.test(first) || !IPV4.test(last))
    ctx.addIssue({ code: 'custom', path: ['metallbPool'], message: 'both ends must be IPv4 addresses' });
  else if (ipToNumber(first) > ipToNumber(last))
    ctx.addIssue({ code: 'custom', path: ['metallbPool'], message: 'first address is after the last' });
  const [net, bits] = site.network.split('/') as [string, string];
  if (!IPV4.test(net) || Number(bits) > 32)
    ctx.addIssue({ code: 'custom', path: ['network'], message: 'must be an IPv4 CIDR' });
  if (!site.nodes.some((n) => n.role === 'server'))
    ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'needs at least one server node' });
});

/**
 * `site.yaml` as the supply chain reads it: every field optional (the file itself too), each still validated when
 * given. `registry` is needed only by `bundle push` without `--registry` and by `mirror-config`, which say so.
 */
export const carrySiteSchema = z
  .strictObject(siteFields)
  .partial()
  .extend({ plainHttp: siteFields.plainHttp.default(false), chartsPath: siteFields.chartsPath });

/** Converts a dotted IPv4 address to a number, for range comparisons. */
export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/**
 * A pinned image in `lock.yaml`: the tag it was resolved for and `digest`, the top-level manifest
 * (multi-arch index) the airgap registry serves for that tag. That is the upstream index itself
 * when it lists only the inventory's platforms; when upstream lists more, `lumen inventory lock`
 * pins the index filtered to the inventory's platforms and keeps the upstream one in `upstreamDigest`.
 */
export const imageLockSchema = z.strictObject({
  tag: tagSchema,
  digest: digestSchema,
  /** The upstream index digest of the tag, when `digest` is a filtered index. */
  upstreamDigest: digestSchema.optional(),
});
/** A pinned chart: the version and the SHA-256 of its chart archive (`.tgz`, the Helm OCI content layer). */
export const chartLockSchema = z.strictObject({ version: z.string().regex(SEMVER), digest: digestSchema });
/** A pinned file: the version and the SHA-256 of its bytes. */
export const fileLockSchema = z.strictObject({ version: z.string().min(1), digest: digestSchema });

/** `lock.yaml`, keyed by name (YAML forbids duplicate keys, so a name is locked once). */
export const lockSchema = z.strictObject({
  lockVersion: z.literal(1),
  images: z.record(nameSchema, imageLockSchema).default({}),
  charts: z.record(nameSchema, chartLockSchema).default({}),
  files: z.record(nameSchema, fileLockSchema).default({}),
});

export type Waiver = z.output<typeof waiverSchema>;
export type Action = z.output<typeof actionSchema>;

/** An image as written in `images.yaml` (defaults applied: `origin` is `upstream` unless given). */
export type ImageSpec = z.infer<typeof imageSchema>;
/** A chart as written in `charts.yaml` (defaults applied: `images` is `[]` unless given). */
export type ChartSpec = z.infer<typeof chartSchema>;
/** A file as written in `files.yaml`. */
export type FileSpec = z.infer<typeof fileSchema>;
/** `site.yaml` (defaults applied: `chartsPath` is `charts` unless given). */
export type Site = z.infer<typeof siteSchema>;
/** `site.yaml` as the supply chain reads it ({@link carrySiteSchema}). */
export type CarrySite = z.infer<typeof carrySiteSchema>;
/** One node of `site.yaml`. */
export type SiteNode = z.infer<typeof nodeSchema>;
/** `lock.yaml` (missing sections read as empty). */
export type Lock = z.infer<typeof lockSchema>;
/** One image entry of `lock.yaml`. */
export type ImageLock = z.infer<typeof imageLockSchema>;
/** One chart entry of `lock.yaml`. */
export type ChartLock = z.infer<typeof chartLockSchema>;
/** One file entry of `lock.yaml`. */
export type FileLock = z.infer<typeof fileLockSchema>;
