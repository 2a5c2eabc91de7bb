/** `lumen serve B`: a bundle served read-only as an OCI registry, for a transit zone without one. */
import { serveBundle } from '@lumen/supply';
import { ExitCode } from '../../errors.ts';
import type { Command } from '../../types.ts';
import { exitCodes, parseFlags, usageError } from './flags.ts';

export const serve: Command = {
  summary: 'serve a bundle read-only as an OCI registry (a transit zone without a registry)',
  usage: `usage: lumen serve DIR|FILE.tar[.zst] [--listen HOST:PORT] [--quiet]

Serves the bundle DIR (or its one-file archive) over the OCI distribution API (plain HTTP), read-only: the images under their airgap paths
and tags with their signature tags, the charts as Helm OCI artifacts (oci://HOST:PORT/<chartsPath>/<chart>), the
catalog and tag lists. skopeo, crane, containerd, helm or 'lumen bundle'-style pulls read from it as from any
registry (plain HTTP: skopeo --src-tls-verify=false, K3s mirrors with http://). Every blob is checked against its
digest as it streams; a corrupt one is cut off before its last chunk. Writes answer 405. Runs until SIGINT or
SIGTERM, then exits 0.

  --listen HOST:PORT   where to listen (default 127.0.0.1:5000; port 0 picks a free one)
  --quiet              no line per request
${exitCodes}`,
  async run(args) {
    const { values, positionals } = parseFlags('serve', args, {
      listen: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    });
    const [dir, extra] = positionals;
    if (!dir || extra !== undefined) throw usageError('serve', 'exactly one bundle directory is required');
    const listen = values.listen ?? '127.0.0.1:5000';
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(listen);
    if (!m || Number(m[2]) > 65535) throw usageError('serve', `--listen must be HOST:PORT, got '${listen}'`);
    const served = await serveBundle(dir, {
      host: (m[1] as string).replace(/^\[|\]$/g, ''),
      port: Number(m[2]),
      ...(values.quiet ? {} : { log: (line: string) => process.stderr.write(`${line}\n`) }),
    });
    process.stderr.write(`serving ${dir} on http://${served.address} (${served.repositories.length} repositories)\n`);
    // A server stops cleanly on SIGINT/SIGTERM (exit 0), unlike long work, which is interrupted (main.ts: 130).
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.stderr.write(`lumen serve: ${signal}: stopping\n`);
        void served.close().then(resolve);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    return ExitCode.ok;
  },
};
