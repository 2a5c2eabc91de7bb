/** `lumen mirror-config`: the K3s registries.yaml that sends every pull to the airgap registry. */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { mirrorConfigYaml } from '@lumen/supply';
import { ExitCode } from '../../errors.ts';
import type { Command } from '../../types.ts';
import { exitCodes, inventoryAt, inventoryFlag, parseFlags } from './flags.ts';
import { writeOutputFile } from './output-file.ts';

export const mirrorConfig: Command = {
  summary: 'write the K3s registries.yaml that mirrors every upstream registry to the airgap registry',
  usage: `usage: lumen mirror-config [--out FILE] [--inventory DIR]

Writes K3s registries.yaml: mirrors.<host>.endpoint for every upstream registry host of the
inventory's images (and the airgap registry itself) pointing at site.registry (http:// when
site.plainHttp), with a rewrite only where an airgap path differs from the upstream path.
Prints to stdout without --out; with --out the file is written atomically.
${exitCodes}`,
  async run(args) {
    const { values } = parseFlags('mirror-config', args, { out: { type: 'string' }, ...inventoryFlag }, false);
    const text = mirrorConfigYaml(inventoryAt(values.inventory, false));
    if (!values.out) {
      process.stdout.write(text);
      return ExitCode.ok;
    }
    const out = resolve(values.out);
    await mkdir(dirname(out), { recursive: true }).catch(() => undefined);
    await writeOutputFile(out, text, 0o644, true);
    process.stderr.write(`wrote ${out}\n`);
    return ExitCode.ok;
  },
};
