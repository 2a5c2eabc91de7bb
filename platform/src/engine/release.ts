/**
 * `lumen release bump`: CI pushed and signed a new lumen-api image; pin its digest (and tag) in the
 * inventory and re-render deploy/, so the commit CI pushes to Gitea changes exactly the Rollout's
 * image and Argo CD starts the canary.
 */
import { execFileSync } from 'node:child_process';
import {
  DEFAULT_INVENTORY_DIR,
  DIGEST_PATTERN,
  findImage,
  loadInventory,
  releaseBuildImage,
  TAG_PATTERN,
} from '@lumen/inventory';
import { writeDeploy } from './deploy-dir.ts';
import { PlatformError, PlatformErrorCode } from './errors.ts';
import { render } from './render.ts';

/** Options of {@link bumpRelease}. */
export interface BumpOptions {
  /** `sha256:<64 hex>` of the pushed image (its multi-arch index). */
  digest: string;
  /** New tag; default: keep the current tag of the image. */
  tag?: string;
  /** Inventory image to bump. Default `lumen-api`. */
  image?: string;
  /** Inventory directory. Default: the repository's `inventory/`. */
  inventoryDir?: string;
  /** Where to render. Default `deploy/` next to the inventory. */
  outDir: string;
}

/**
 * Pins the digest and re-renders.
 *
 * @throws {PlatformError} `PLATFORM_USAGE` for a malformed digest or tag; InventoryError for an unknown image.
 */
export function bumpRelease(options: BumpOptions): { tag: string; digest: string; written: number; removed: number } {
  if (!DIGEST_PATTERN.test(options.digest))
    throw new PlatformError(PlatformErrorCode.usage, `--digest '${options.digest}' is not sha256:<64 lowercase hex>`);
  if (options.tag !== undefined && (!TAG_PATTERN.test(options.tag) || options.tag === 'latest'))
    throw new PlatformError(
      PlatformErrorCode.usage,
      `--tag '${options.tag}' is not a valid release tag (and never latest)`,
    );
  const dir = options.inventoryDir ?? DEFAULT_INVENTORY_DIR;
  const name = options.image ?? 'lumen-api';
  const tag = options.tag ?? findImage(loadInventory(dir), name).tag;
  const inv = releaseBuildImage(name, { version: tag, digest: options.digest }, dir);
  const { written, removed } = writeDeploy(options.outDir, render(inv).files);
  return { tag, digest: options.digest, written, removed };
}

/** Options of {@link commitRelease}. */
export interface CommitOptions {
  /** The repository (a git work tree) holding the inventory and deploy/. */
  repo: string;
  /** The paths the bump wrote (the inventory and deploy directories). */
  paths: string[];
  image: string;
  tag: string;
  digest: string;
  /** The commit the image was built from (named in the message). */
  revision?: string;
  /** `git push` to this remote (URL or name) after committing, HEAD to the current branch's name. */
  push?: string;
  /** A token for the push, sent as HTTP basic auth through git's environment, never on a command line or in Git. */
  token?: string;
}

/**
 * Commits what a bump wrote, with a message naming the image, its digest and the source revision, and pushes it
 * when asked. Returns the new commit.
 *
 * @throws {PlatformError} `PLATFORM_IO` when git fails (not a work tree, nothing to commit, the push refused).
 */
export function commitRelease(options: CommitOptions): string {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: process.env.GIT_AUTHOR_NAME ?? 'lumen release',
    GIT_AUTHOR_EMAIL: process.env.GIT_AUTHOR_EMAIL ?? 'release@lumen.invalid',
    GIT_COMMITTER_NAME: process.env.GIT_COMMITTER_NAME ?? 'lumen release',
    GIT_COMMITTER_EMAIL: process.env.GIT_COMMITTER_EMAIL ?? 'release@lumen.invalid',
  };
  const git = (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    try {
      return execFileSync('git', args, {
        cwd: options.repo,
        env: { ...env, ...extra },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim();
    } catch (err) {
      const detail = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n').at(-1);
      throw new PlatformError(PlatformErrorCode.io, `release bump: git ${args[0]} failed: ${detail}`);
    }
  };
  git(['add', '--all', '--', ...options.paths]);
  const message = [
    `release: ${options.image} ${options.tag}@${options.digest}`,
    '',
    options.revision ? `Built from ${options.revision} by lumen image build.` : 'Pinned by lumen release bump.',
  ].join('\n');
  git(['commit', '--quiet', '--message', message]);
  const commit = git(['rev-parse', 'HEAD']);
  if (options.push !== undefined) {
    const branch = git(['rev-parse', '--abbrev-ref', 'HEAD']);
    const auth: NodeJS.ProcessEnv = options.token
      ? {
          GIT_CONFIG_COUNT: '1',
          GIT_CONFIG_KEY_0: 'http.extraHeader',
          GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`lumen-release:${options.token}`).toString('base64')}`,
        }
      : {};
    git(['push', '--quiet', options.push, `HEAD:refs/heads/${branch}`], auth);
  }
  return commit;
}
