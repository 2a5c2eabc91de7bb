import { readFileSync } from 'node:fs';
/**
 * `lumen check`: the platform's proof inputs handed to @lumen/check. Both are loaded when the command
 * runs, not when the table is read: `lumen --help` and `lumen check --help` need neither.
 */
import type { ChartSource } from '@lumen/check';
import type { CommandTable } from '../types.ts';

const usage = `usage: lumen check [PATH…] [--json] [--deploy DIR] [--inventory DIR]
                   [--charts DIR | --bundle DIR | --registry HOST:PORT [--plain-http]]
                   [--server | --kubeconfig FILE]

Proves the rendered platform before any cluster sees it: schema (with name, label and
image-reference syntax), admission (judged by Gatekeeper's own engine, gator), Pod Security,
NetworkPolicy reachability against the declared matrix, selectors, sync waves, plaintext
secrets, pinned inventory images, scheduling on the site's nodes. With a chart source, every
Helm chart of deploy/ is first rendered by the real helm as Argo CD renders it, and every proof
runs on what the charts really deploy. With --server, a real kube-apiserver is the judge of
schema and Pod Security: every object is applied to it in dry run.

  PATH…            manifests (files or folders) to prove as if applied on top of the rendered
                   platform (an admission dry run); only the violations they add are reported.
                   Without PATH, proves the platform itself.
  --json           print a JSON document instead of lines
  --deploy DIR     the rendered platform (default: deploy)
  --inventory DIR  the inventory (default: the repository's inventory/)
  --charts DIR     unpacked charts (DIR/<any>/Chart.yaml) or archives (DIR/<chart>-<version>.tgz)
  --bundle DIR     the charts of a bundle made by 'lumen bundle create'
  --registry H:P   the charts in a registry (as 'lumen bundle push' stores them)
  --plain-http     talk HTTP, not HTTPS, to --registry
  --server         start kube-apiserver (the inventory's K3s version) and etcd from the tool
                   cache, create the namespaces and CRDs, apply every other object with
                   dryRun=All and fieldValidation=Strict, stop the server
  --kubeconfig F   the same on the cluster of kubeconfig F (creates its missing namespaces,
                   default ServiceAccounts and CRDs for real, as a sync would; nothing else)

helm, gator, kube-apiserver and etcd are found as LUMEN_HELM, LUMEN_GATOR,
LUMEN_KUBE_APISERVER, LUMEN_ETCD, else in the tool cache (scripts/tools.sh), else on PATH.
Output: one line per violation, "file: kind/namespace/name: rule: reason", then a summary that
says whether chart internals were rendered or taken from the platform model's description.
Exit codes: 0 every proof holds, 1 violations, 2 unreadable or invalid input, 3 chart source
(registry or bundle) or --kubeconfig's API server unreachable or unreadable, 5 an engine
(helm, gator, kube-apiserver, etcd) missing or failing to run.`;

/** The `lumen check` command. */
export const commands: CommandTable = {
  check: {
    summary: 'prove the rendered platform (or manifests on top of it) without a cluster',
    usage,
    async run(args) {
      const {
        CheckError,
        CheckErrorCode,
        formatCharts,
        formatJson,
        formatServer,
        formatSummary,
        formatViolation,
        runCheck,
      } = await import('@lumen/check');
      const readKubeconfig = (file: string): string => {
        try {
          return readFileSync(file, 'utf8');
        } catch (err) {
          throw new CheckError(
            CheckErrorCode.unreadable,
            `--kubeconfig ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          );
        }
      };
      const paths: string[] = [];
      let json = false;
      let deployDir = 'deploy';
      let inventoryDir: string | undefined;
      let charts: ChartSource | undefined;
      let plainHttp = false;
      let server: { start: true } | { kubeconfig: string } | undefined;
      const target = (flag: string, t: typeof server) => {
        if (server) throw new CheckError(CheckErrorCode.usage, `${flag}: give one of --server, --kubeconfig`);
        server = t;
      };
      const value = (flag: string, what: string): string => {
        const next = args[++i];
        if (next === undefined || next.startsWith('--'))
          throw new CheckError(CheckErrorCode.usage, `${flag} needs ${what}`);
        return next;
      };
      const source = (flag: string, s: ChartSource) => {
        if (charts) throw new CheckError(CheckErrorCode.usage, `${flag}: give one of --charts, --bundle, --registry`);
        charts = s;
      };
      let i = 0;
      for (; i < args.length; i++) {
        const arg = args[i] as string;
        if (arg === '--json') json = true;
        else if (arg === '--plain-http') plainHttp = true;
        else if (arg === '--server') target(arg, { start: true });
        else if (arg === '--kubeconfig') target(arg, { kubeconfig: readKubeconfig(value(arg, 'a file')) });
        else if (arg === '--deploy') deployDir = value(arg, 'a directory');
        else if (arg === '--inventory') inventoryDir = value(arg, 'a directory');
        else if (arg === '--charts') source(arg, { kind: 'dir', dir: value(arg, 'a directory') });
        else if (arg === '--bundle') source(arg, { kind: 'bundle', dir: value(arg, 'a bundle directory') });
        else if (arg === '--registry')
          source(arg, { kind: 'registry', host: value(arg, 'HOST:PORT'), plainHttp: false });
        else if (arg.startsWith('-'))
          throw new CheckError(CheckErrorCode.usage, `unknown flag ${arg} (see 'lumen check --help')`);
        else paths.push(arg);
      }
      const chosen = charts as ChartSource | undefined;
      if (plainHttp) {
        if (chosen?.kind !== 'registry')
          throw new CheckError(CheckErrorCode.usage, '--plain-http goes with --registry');
        chosen.plainHttp = true;
      }
      const { checkInputs } = await import('@lumen/platform');
      const inputs = await checkInputs(inventoryDir);
      const result = await runCheck({
        deployDir,
        paths,
        ...inputs,
        charts: chosen,
        server,
        // Progress goes to stderr so that --json stays a clean document on stdout.
        onProgress: (line) => process.stderr.write(`${line}\n`),
      });
      if (json) {
        console.log(formatJson(result));
      } else {
        for (const v of result.violations) console.log(formatViolation(v));
        for (const line of formatServer(result)) console.log(line);
        console.log(formatCharts(result));
        console.log(formatSummary(result));
      }
      return result.violations.length === 0 ? 0 : 1;
    },
  },
};
