/**
 * `lumen render`, `lumen node-firewall` and `lumen release bump`, over @lumen/platform (see ../main.ts for
 * the owner table). The platform is loaded when a command runs, not when `lumen --help` reads the table.
 */
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_INVENTORY_DIR, loadInventory } from '@lumen/inventory';
import type { CommandTable } from '../types.ts';

/** deploy/ at the repository root (next to inventory/). */
const defaultOut = resolve(DEFAULT_INVENTORY_DIR, '..', 'deploy');

const platform = () => import('@lumen/platform');

/** Flags of a platform command (no positionals); a bad one is PLATFORM_USAGE, exit 2, its message after `label: `. */
export async function parse<T extends Record<string, { type: 'string' | 'boolean' }>>(
  args: string[],
  options: T,
  label?: string,
) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (err) {
    const { PlatformError, PlatformErrorCode } = await platform();
    const message = (err as Error).message;
    throw new PlatformError(PlatformErrorCode.usage, label ? `${label}: ${message}` : message);
  }
}

export const commands: CommandTable = {
  render: {
    summary: 'write deploy/ from platform/ (deterministic; --check compares instead of writing)',
    usage: [
      'usage: lumen render [--out DIR] [--inventory DIR] [--check]',
      '',
      'Renders every platform component from the inventory into DIR (default: deploy/ at the repository root):',
      'Argo CD Applications with computed sync waves, Namespaces, NetworkPolicies and every object lumen writes.',
      'Files the render no longer produces are removed. Two runs are byte-identical.',
      '',
      '  --out DIR        where to write (default deploy/)',
      '  --inventory DIR  inventory directory (default inventory/)',
      '  --check          write nothing; exit 1 and list the differences when DIR is not a fresh render',
      '',
      'Exit codes: 0 ok, 1 --check found differences, 2 bad usage or inventory (unknown or unpinned image),',
      '4 cannot write DIR, 70 an object failed validation (a bug in platform/src).',
    ].join('\n'),
    async run(args) {
      const v = await parse(args, {
        out: { type: 'string' },
        inventory: { type: 'string' },
        check: { type: 'boolean' },
      });
      const { diffDeploy, render, writeDeploy } = await platform();
      const out = resolve(v.out ?? defaultOut);
      const { files, skipped } = render(loadInventory(v.inventory));
      for (const s of skipped) console.error(`lumen: not rendered yet: ${s.component}: ${s.reason}`);
      if (v.check) {
        const diff = diffDeploy(out, files);
        for (const d of diff) console.log(d);
        if (diff.length) {
          console.error(`lumen: ${out} differs from a fresh render in ${diff.length} file(s): run 'lumen render'`);
          return 1;
        }
        console.log(`${out} is up to date (${files.size} files)`);
        return 0;
      }
      const { written, removed } = writeDeploy(out, files);
      console.log(`rendered ${files.size} files into ${out} (${written} written, ${removed} removed)`);
      return 0;
    },
  },
  'node-firewall': {
    summary: "print the nftables rules that enforce the airgap on every node (from the inventory's site.yaml)",
    usage: [
      'usage: lumen node-firewall [--inventory DIR]',
      '',
      'Prints the nftables script (nft -f input) that every node loads: loopback, replies, the site network,',
      "the cluster's pod and service CIDRs and DHCPv4 on the local link are allowed; everything else, IPv4 and",
      'IPv6, is dropped and counted (table inet lumen_airgap). The addresses come from site.yaml only.',
      'The provisioning role airgap_firewall installs it; see docs/provisioning.md.',
      '',
      '  --inventory DIR  inventory directory (default inventory/)',
      '',
      'Exit codes: 0 ok, 2 bad usage or inventory.',
    ].join('\n'),
    async run(args) {
      const v = await parse(args, { inventory: { type: 'string' } });
      const { nodeFirewall } = await platform();
      process.stdout.write(nodeFirewall(loadInventory(v.inventory)));
      return 0;
    },
  },
  'release bump': {
    summary: 'pin a new lumen-api digest (and tag) in the inventory lock and re-render deploy/',
    usage: [
      'usage: lumen release bump --digest sha256:<hex> [--tag TAG] [--image NAME] [--out DIR] [--inventory DIR]',
      '                          [--commit [--revision REV] [--push REMOTE [--token-env VAR]]]',
      '',
      'Called by CI after pushing and signing lumen-api: writes the tag into inventory/images.yaml and the digest',
      'into inventory/lock.yaml (comments kept), then renders deploy/ so the Rollout pulls exactly that digest.',
      'With --commit, commits the inventory and deploy/ in their git work tree with a message naming the image,',
      'the digest and the revision it was built from; with --push, pushes that commit to REMOTE.',
      '',
      '  --digest D       digest of the pushed image (required)',
      '  --tag TAG        new tag (default: keep the current one)',
      '  --image NAME     inventory image (default lumen-api; must be origin: build)',
      '  --out DIR        deploy directory (default deploy/)',
      '  --inventory DIR  inventory directory (default inventory/)',
      '  --commit         commit the change (author: GIT_AUTHOR_NAME/EMAIL, default lumen release)',
      '  --revision REV   the source commit the image was built from, for the message',
      '  --push REMOTE    push the commit to REMOTE (a name or URL), to the current branch',
      '  --token-env VAR  the push token is in environment variable VAR (sent as HTTP basic auth; never stored)',
      '',
      'Exit codes: 0 ok, 2 bad usage or digest/tag, 4 cannot write or git failed, 70 internal error.',
    ].join('\n'),
    async run(args) {
      const { bumpRelease, commitRelease, PlatformError, PlatformErrorCode } = await platform();
      const v = await parse(args, {
        digest: { type: 'string' },
        tag: { type: 'string' },
        image: { type: 'string' },
        out: { type: 'string' },
        inventory: { type: 'string' },
        commit: { type: 'boolean' },
        revision: { type: 'string' },
        push: { type: 'string' },
        'token-env': { type: 'string' },
      });
      if (!v.digest) throw new PlatformError(PlatformErrorCode.usage, 'release bump needs --digest sha256:<hex>');
      if ((v.push !== undefined || v.revision !== undefined) && !v.commit)
        throw new PlatformError(PlatformErrorCode.usage, 'release bump: --revision and --push need --commit');
      if (v['token-env'] !== undefined && v.push === undefined)
        throw new PlatformError(PlatformErrorCode.usage, 'release bump: --token-env needs --push');
      const token = v['token-env'] !== undefined ? process.env[v['token-env']] : undefined;
      if (v['token-env'] !== undefined && !token)
        throw new PlatformError(
          PlatformErrorCode.usage,
          `release bump: environment variable ${v['token-env']} (--token-env) is not set`,
        );
      const result = bumpRelease({
        digest: v.digest,
        ...(v.tag !== undefined ? { tag: v.tag } : {}),
        ...(v.image !== undefined ? { image: v.image } : {}),
        ...(v.inventory !== undefined ? { inventoryDir: v.inventory } : {}),
        outDir: resolve(v.out ?? defaultOut),
      });
      console.log(
        `pinned ${v.image ?? 'lumen-api'}:${result.tag}@${result.digest}; deploy/ re-rendered (${result.written} written, ${result.removed} removed)`,
      );
      if (v.commit) {
        const inventoryDir = resolve(v.inventory ?? DEFAULT_INVENTORY_DIR);
        const commit = commitRelease({
          repo: dirname(inventoryDir),
          paths: [inventoryDir, resolve(v.out ?? defaultOut)],
          image: v.image ?? 'lumen-api',
          tag: result.tag,
          digest: result.digest,
          ...(v.revision !== undefined ? { revision: v.revision } : {}),
          ...(v.push !== undefined ? { push: v.push } : {}),
          ...(token !== undefined ? { token } : {}),
        });
        console.log(`committed ${commit}${v.push !== undefined ? ` and pushed it to ${v.push}` : ''}`);
      }
      return 0;
    },
  },
};
