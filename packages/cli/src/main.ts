/**
 * Process edge of the `lumen` CLI: picks the command, runs it, turns errors into one
 * line on stderr and an exit code. Everything that decides something lives in the
 * packages that own the command.
 */
import { ExitCode, isCodedError } from './errors.ts';
import type { CommandTable } from './types.ts';

/** Which package owns which command word. Loaded lazily so `lumen render` never loads the OCI client. */
const owners: Record<string, () => Promise<{ commands: CommandTable }>> = {
  inventory: () => import('./commands/supply/index.ts'),
  bundle: () => import('./commands/supply/index.ts'),
  keygen: () => import('./commands/supply/index.ts'),
  sign: () => import('./commands/supply/index.ts'),
  verify: () => import('./commands/supply/index.ts'),
  'mirror-config': () => import('./commands/supply/index.ts'),
  serve: () => import('./commands/supply/index.ts'),
  release: () => import('./commands/platform.ts'),
  render: () => import('./commands/platform.ts'),
  'node-firewall': () => import('./commands/platform.ts'),
  check: () => import('./commands/check.ts'),
  provision: () => import('./commands/provision.ts'),
  bootstrap: () => import('./commands/bootstrap.ts'),
  image: () => import('./commands/image.ts'),
  version: () => import('./commands/version.ts'),
};

async function allCommands(): Promise<CommandTable> {
  const loaders = [...new Set(Object.values(owners))];
  const tables = await Promise.all(loaders.map((load) => load().then((m) => m.commands)));
  return Object.assign({}, ...tables);
}

function helpText(table: CommandTable): string {
  const names = Object.keys(table).sort();
  const width = Math.max(...names.map((n) => n.length));
  return [
    'usage: lumen <command> [options]',
    '',
    'commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${table[n]?.summary ?? ''}`),
    '',
    "Run 'lumen <command> --help' for a command's options and exit codes.",
    'Exit codes: 0 ok, 1 a proof failed, 2 bad usage or input, 3 remote failure, 4 local I/O failure, 70 internal error, 130 interrupted.',
  ].join('\n');
}

/** The help text, stamped into the single executable at build time (scripts/build-cli.ts), which then loads no command. */
declare const LUMEN_HELP: string | undefined;

export async function main(argv: string[]): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    console.log(typeof LUMEN_HELP === 'string' ? LUMEN_HELP : helpText(await allCommands()));
    return first === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const owner = owners[first];
  if (!owner) {
    console.error(`lumen: unknown command '${first}' (see 'lumen --help')`);
    return ExitCode.usage;
  }
  const { commands } = await owner();
  // Two-word commands ("bundle create") take precedence over one-word ones ("sign").
  const twoWords = second !== undefined ? `${first} ${second}` : undefined;
  const name = twoWords !== undefined && commands[twoWords] ? twoWords : first;
  const command = commands[name];
  if (!command) {
    const family = Object.keys(commands).filter((n) => n.startsWith(`${first} `));
    const hint = family.length > 0 ? `: one of ${family.join(', ')}` : '';
    console.error(`lumen: unknown command '${[first, second].filter(Boolean).join(' ')}'${hint}`);
    return ExitCode.usage;
  }
  const args = argv.slice(name.split(' ').length);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(command.usage);
    return ExitCode.ok;
  }
  return command.run(args);
}

/**
 * Runs the CLI as a process: the signal and crash handlers below, then {@link main} on `argv`, its result as the
 * exit code. Called by the entry (cli.ts), never on import, so the single executable's bundle can start it
 * without top-level await.
 */
export async function runProcess(argv: string[]): Promise<void> {
  // Ctrl-C (or a SIGTERM) ends the run with one line and exit 130; every write is atomic and the long
  // commands resume where they stopped, so running the command again is the way on. Servers a command
  // started (lumen check --server) are stopped by their own exit hook.
  // A crash anywhere (a library's internal assertion in a callback, say) is a bug of lumen: exit 70 with
  // its stack, never the runtime's exit 1, which would read as "a proof failed".
  process.on('uncaughtException', (err) => {
    console.error(`lumen: internal error: ${err.stack ?? err.message}`);
    process.exit(ExitCode.internal);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`lumen: interrupted by ${signal}; run the command again to resume`);
      process.exit(ExitCode.interrupted);
    });
  }

  try {
    process.exitCode = await main(argv);
  } catch (err) {
    if (isCodedError(err)) {
      console.error(`lumen: ${err.message}`);
      // LUMEN_DEBUG=1 adds the stable error code (what scripts and tests may match on) on a line of its own.
      if (process.env.LUMEN_DEBUG === '1') console.error(`lumen: error code ${err.code}`);
      process.exitCode = err.exitCode;
    } else {
      console.error(`lumen: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exitCode = ExitCode.internal;
    }
  }
}
