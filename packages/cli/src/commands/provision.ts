/**
 * `lumen provision inventory|k3s-config|node-files`: the decisions the provisioning roles of infra/ansible ask for
 * (docs/provisioning.md, "Roles: registry, images, k3s"), over @lumen/platform. The roles carry the output to the nodes.
 */
import { resolve } from 'node:path';
import { loadInventory } from '@lumen/inventory';
import type { CommandTable } from '../types.ts';
import { parse } from './platform.ts';

const platform = () => import('@lumen/platform');

async function required(command: string, flag: string, value: string | undefined): Promise<string> {
  if (value) return value;
  const { PlatformError, PlatformErrorCode } = await platform();
  throw new PlatformError(PlatformErrorCode.usage, `${command} needs --${flag}`);
}

const inventoryHelp = '  --inventory DIR  inventory directory (default inventory/)';

export const commands: CommandTable = {
  'provision inventory': {
    summary: 'print the Ansible inventory of the site (groups nodes, server, agent, registry) from site.yaml',
    usage: [
      'usage: lumen provision inventory [--inventory DIR]',
      '',
      'Prints the Ansible inventory (YAML) the playbooks of infra/ansible run against: group nodes with children',
      'server and agent (site.yaml role), group registry (the node serving site.yaml registry), ansible_host and',
      'lumen_node_ip per node, lumen_site_registry and lumen_site_plain_http for all.',
      '',
      inventoryHelp,
      '',
      'Exit codes: 0 ok, 2 bad usage or inventory.',
    ].join('\n'),
    async run(args) {
      const v = await parse(args, { inventory: { type: 'string' } });
      const { ansibleInventory } = await platform();
      process.stdout.write(ansibleInventory(loadInventory(v.inventory)));
      return 0;
    },
  },
  'provision k3s-config': {
    summary: 'print /etc/rancher/k3s/config.yaml of one node (node-ip, tls-san, disabled components, join)',
    usage: [
      'usage: lumen provision k3s-config --node NAME [--inventory DIR]',
      '',
      "Prints K3s' config.yaml for the site.yaml node NAME: a server gets node-ip, advertise-address, tls-san and",
      'disable: [traefik, servicelb] (the platform deploys Traefik and MetalLB itself); an agent (and any server',
      'after the first) gets the first server as server: and the token-file the k3s role writes.',
      '',
      '  --node NAME      a node of site.yaml (required)',
      inventoryHelp,
      '',
      'Exit codes: 0 ok, 2 bad usage, unknown node or bad inventory.',
    ].join('\n'),
    async run(args) {
      const v = await parse(args, { node: { type: 'string' }, inventory: { type: 'string' } });
      const node = await required('provision k3s-config', 'node NAME', v.node);
      const { k3sConfig } = await platform();
      process.stdout.write(k3sConfig(loadInventory(v.inventory), node));
      return 0;
    },
  },
  'provision node-files': {
    summary: "lay out, proven by digest, the bundle's files a role copies to the nodes (K3s, the registry binary)",
    usage: [
      'usage: lumen provision node-files --set registry|k3s --arch ARCH[,ARCH] --bundle DIR|FILE.tar[.zst] --out DIR',
      '                                  [--inventory DIR]',
      '',
      'Reads the files of a role out of the bundle for each architecture and writes them to',
      'OUT/<amd64|arm64>/<name>: set k3s = the K3s binary and its airgap image tarball, set registry = the',
      'Distribution binary (taken out of its release tarball). Each file must hash to the digest the bundle',
      'lists and lock.yaml pins, else nothing of it is written. Prints JSON on stdout: per ARCH as given, per',
      'purpose (k3s, k3s-airgap-images, distribution-registry) {name, version, digest, path, installPath, mode}.',
      '',
      '  --set SET        registry or k3s (required)',
      '  --arch ARCH      amd64, arm64, or as nodes report them (x86_64, aarch64); comma-separated (required)',
      '  --bundle B       a bundle directory or archive made by lumen bundle create (required)',
      '  --out DIR        where to write (required; created)',
      inventoryHelp,
      '',
      'Exit codes: 0 ok, 1 a file does not hash to its digest (or the bundle and the lock disagree),',
      '2 bad usage, unknown architecture, or a file the inventory or bundle lacks, 4 cannot read the bundle',
      'or write DIR.',
    ].join('\n'),
    async run(args) {
      const v = await parse(args, {
        set: { type: 'string' },
        arch: { type: 'string' },
        bundle: { type: 'string' },
        out: { type: 'string' },
        inventory: { type: 'string' },
      });
      const { nodeFiles, nodeFileSets, PlatformError, PlatformErrorCode } = await platform();
      const set = await required('provision node-files', 'set registry|k3s', v.set);
      if (!(set in nodeFileSets)) {
        throw new PlatformError(
          PlatformErrorCode.usage,
          `provision node-files: unknown --set '${set}' (one of ${Object.keys(nodeFileSets).join(', ')})`,
        );
      }
      const arches = (await required('provision node-files', 'arch ARCH', v.arch)).split(',').filter(Boolean);
      const bundle = await required('provision node-files', 'bundle DIR', v.bundle);
      const out = resolve(await required('provision node-files', 'out DIR', v.out));
      const inv = loadInventory(v.inventory, { carry: true });
      const { readBundle } = await import('@lumen/supply');
      const { layout, manifest } = await readBundle(bundle);
      const files = await nodeFiles({
        set: set as keyof typeof nodeFileSets,
        arches,
        files: inv.files,
        carried: manifest.files,
        blobs: layout,
        out,
      });
      console.log(JSON.stringify({ set, out, files }, null, 2));
      return 0;
    },
  },
};
