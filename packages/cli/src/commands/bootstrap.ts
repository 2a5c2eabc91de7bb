/**
 * `lumen bootstrap …`: what the Ansible roles put on a fresh cluster before Argo CD runs, built from the same
 * component definitions `lumen render` uses (see docs/provisioning.md). The roles copy the output verbatim.
 */
import { loadInventory } from '@lumen/inventory';
import type { CommandTable } from '../types.ts';
import { parse as parseFlags } from './platform.ts';

const platform = () => import('@lumen/platform');

const parse = <T extends Record<string, { type: 'string' | 'boolean' }>>(args: string[], options: T) =>
  parseFlags(args, options, 'bootstrap');

export const commands: CommandTable = {
  'bootstrap helmchart': {
    summary: "print the K3s HelmChart that first installs a component's chart (values as its Argo CD Application)",
    usage: [
      'usage: lumen bootstrap helmchart --component NAME [--inventory DIR] [--path]',
      '',
      'Prints a helm.cattle.io/v1 HelmChart for the component: K3s installs it from',
      '/var/lib/rancher/k3s/server/manifests/ with its own helm-controller (no helm on the nodes), pulling the',
      "chart from the airgap registry. Chart, version, release name and values are the component's rendered",
      'Argo CD Application, so Argo CD later adopts the release unchanged.',
      '',
      '  --component NAME  a platform component with a chart (metallb, gatekeeper, argocd, gitea, vault, …)',
      '  --inventory DIR   inventory directory (default inventory/)',
      '  --path            print only the path the manifest goes to on the server node',
      '',
      'Exit codes: 0 ok, 2 bad usage, unknown component, a component without a chart, or a bad inventory.',
    ].join('\n'),
    async run(args) {
      const v = await parse(args, {
        component: { type: 'string' },
        inventory: { type: 'string' },
        path: { type: 'boolean' },
      });
      const { bootstrapHelmChart, PlatformError, PlatformErrorCode } = await platform();
      if (!v.component) throw new PlatformError(PlatformErrorCode.usage, 'bootstrap helmchart needs --component NAME');
      const chart = bootstrapHelmChart(loadInventory(v.inventory), v.component);
      process.stdout.write(v.path ? `${chart.path}\n` : chart.yaml);
      return 0;
    },
  },
  'bootstrap dns': {
    summary: "print K3s CoreDNS's coredns-custom ConfigMap resolving *.<site domain> to Traefik",
    usage: [
      'usage: lumen bootstrap dns [--inventory DIR]',
      '',
      "Prints the ConfigMap coredns-custom (kube-system) that makes K3s's CoreDNS answer every name under",
      "site.yaml's domain with the Traefik Service, so pods reach the platform hosts before any site DNS exists.",
      '',
      '  --inventory DIR  inventory directory (default inventory/)',
      '',
      'Exit codes: 0 ok, 2 bad usage or inventory.',
    ].join('\n'),
    async run(args) {
      const v = await parse(args, { inventory: { type: 'string' } });
      const { bootstrapDns } = await platform();
      process.stdout.write(bootstrapDns(loadInventory(v.inventory)).yaml);
      return 0;
    },
  },
  'bootstrap registry-contents': {
    summary: 'print, as JSON, every repository and digest the airgap registry must serve (images and charts)',
    usage: [
      'usage: lumen bootstrap registry-contents [--inventory DIR]',
      '',
      'Prints a JSON array of {kind, name, repository, reference}: each inventory image at its pinned digest and',
      'each chart at its version tag, as paths of the airgap registry. The verify role checks the registry with it.',
      '',
      '  --inventory DIR  inventory directory (default inventory/)',
      '',
      'Exit codes: 0 ok, 2 bad usage or an inventory that is not locked.',
    ].join('\n'),
    async run(args) {
      const v = await parse(args, { inventory: { type: 'string' } });
      const { registryContents } = await platform();
      process.stdout.write(`${JSON.stringify(registryContents(loadInventory(v.inventory)), null, 2)}\n`);
      return 0;
    },
  },
};
