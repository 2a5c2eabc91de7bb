import type { CommandTable } from '@lumen/cli';
import { runCheck } from './check.ts';
import { CheckError, CheckErrorCode } from './errors.ts';
import { platformInputs } from './platform-inputs.ts';
import { formatJson, formatSummary, formatViolation } from './report.ts';

const usage = `usage: lumen check [PATH…] [--json] [--deploy DIR] [--inventory DIR]

Proves the rendered platform offline: schema, admission (Gatekeeper CEL), Pod Security,
NetworkPolicy reachability against the declared matrix, selectors, sync waves, plaintext
secrets, pinned inventory images.

  PATH…            manifests (files or folders) to prove as if applied on top of the rendered
                   platform (an admission dry run); only the violations they add are reported.
                   Without PATH, proves the platform itself.
  --json           print a JSON document instead of lines
  --deploy DIR     the rendered platform (default: deploy)
  --inventory DIR  the inventory (default: the repository's inventory/)

Output: one line per violation, "file: kind/namespace/name: rule: reason", then a summary.
Exit codes: 0 every proof holds, 1 violations, 2 unreadable or invalid input.`;

/** The `lumen check` command. */
export const commands: CommandTable = {
  check: {
    summary: 'prove the rendered platform (or manifests on top of it) without a cluster',
    usage,
    async run(args) {
      const paths: string[] = [];
      let json = false;
      let deployDir = 'deploy';
      let inventoryDir: string | undefined;
      for (let i = 0; i < args.length; i++) {
        const arg = args[i] as string;
        if (arg === '--json') json = true;
        else if (arg === '--deploy') {
          const next = args[++i];
          if (next === undefined) throw new CheckError(CheckErrorCode.usage, '--deploy needs a directory');
          deployDir = next;
        } else if (arg === '--inventory') {
          const next = args[++i];
          if (next === undefined) throw new CheckError(CheckErrorCode.usage, '--inventory needs a directory');
          inventoryDir = next;
        } else if (arg.startsWith('-'))
          throw new CheckError(CheckErrorCode.usage, `unknown flag ${arg} (see 'lumen check --help')`);
        else paths.push(arg);
      }
      const inputs = await platformInputs(inventoryDir);
      const result = await runCheck({ deployDir, paths, ...inputs });
      if (json) {
        console.log(formatJson(result));
      } else {
        for (const v of result.violations) console.log(formatViolation(v));
        console.log(formatSummary(result));
      }
      return result.violations.length === 0 ? 0 : 1;
    },
  },
};
