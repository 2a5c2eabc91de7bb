/**
 * The shape of the repository (docs/architecture.md): workspaces depend one way. Every `@lumen/*`
 * import is declared by the importing workspace, no relative import leaves its workspace, the
 * declared dependencies form no cycle, and the shared packages (oci, inventory, check, testkit)
 * never import the platform, the CLI or the apps.
 */
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';

const root = resolve(import.meta.dirname, '..');

interface Workspace {
  name: string;
  dir: string;
  declared: Set<string>;
}

const workspaces: Workspace[] = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces as string[])
  .flatMap((pattern) => globSync(`${pattern}/package.json`, { cwd: root }))
  .map((file) => {
    const pkg = JSON.parse(readFileSync(join(root, file), 'utf8'));
    return {
      name: pkg.name as string,
      dir: dirname(file),
      declared: new Set(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })),
    };
  });

const shared = ['@lumen/oci', '@lumen/inventory', '@lumen/check', '@lumen/testkit'];
const upper = (name: string) => name === '@lumen/platform' || name === '@lumen/cli' || name === '@lumen/api';

/** Every module specifier a TypeScript file imports (static, dynamic, re-exports). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
    out.push((m[1] ?? m[2]) as string);
  }
  return out;
}

function sources(ws: Workspace): string[] {
  return globSync('**/*.ts', { cwd: join(root, ws.dir), exclude: (p) => p.includes('node_modules') }).map((f) =>
    join(root, ws.dir, f),
  );
}

/** `@lumen/x/sub` → `@lumen/x`. */
const packageOf = (specifier: string) => specifier.split('/').slice(0, 2).join('/');

/** A workspace's files with what each imports. */
function importsOf(ws: Workspace): Array<{ file: string; specs: string[] }> {
  return sources(ws).map((file) => ({ file: relative(root, file), specs: imports(file) }));
}

function undeclared(ws: Workspace, files: Array<{ file: string; specs: string[] }>): string[] {
  return files.flatMap(({ file, specs }) =>
    specs
      .filter((s) => s.startsWith('@lumen/') && packageOf(s) !== ws.name && !ws.declared.has(packageOf(s)))
      .map((s) => `${file} imports ${s}`),
  );
}

function leaving(ws: Workspace, files: Array<{ file: string; specs: string[] }>): string[] {
  return files.flatMap(({ file, specs }) =>
    specs
      .filter((s) => s.startsWith('.') && relative(ws.dir, join(dirname(file), s)).startsWith('..'))
      .map((s) => `${file} imports ${s}`),
  );
}

function upward(ws: Workspace, files: Array<{ file: string; specs: string[] }>): string[] {
  if (!shared.includes(ws.name)) return [];
  return [
    ...[...ws.declared].filter(upper).map((d) => `${ws.name} declares ${d}`),
    ...files.flatMap(({ file, specs }) =>
      specs.filter((s) => s.startsWith('@lumen/') && upper(packageOf(s))).map((s) => `${file} imports ${s}`),
    ),
  ];
}

/** Every cycle of a dependency graph, as `a → b → a`. */
function cycles(edges: Map<string, string[]>): string[] {
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      out.push([...path.slice(path.indexOf(name)), name].join(' → '));
      return;
    }
    state.set(name, 'visiting');
    for (const dep of edges.get(name) ?? []) visit(dep, [...path, name]);
    state.set(name, 'done');
  };
  for (const name of edges.keys()) visit(name, []);
  return out;
}

describe('workspaces depend one way', () => {
  test('the workspaces are found', () => {
    assert.ok(workspaces.length >= 8, workspaces.map((w) => w.name).join(', '));
  });
  test('every @lumen/* import is declared by the importing workspace', () => {
    assert.deepEqual(
      workspaces.flatMap((ws) => undeclared(ws, importsOf(ws))),
      [],
    );
  });
  test('no relative import leaves its workspace', () => {
    assert.deepEqual(
      workspaces.flatMap((ws) => leaving(ws, importsOf(ws))),
      [],
    );
  });
  test('the shared packages never import the platform, the CLI or the apps', () => {
    assert.deepEqual(
      workspaces.flatMap((ws) => upward(ws, importsOf(ws))),
      [],
    );
  });
  test('the declared @lumen/* dependencies form no cycle', () => {
    const edges = new Map(workspaces.map((w) => [w.name, [...w.declared].filter((d) => d.startsWith('@lumen/'))]));
    assert.deepEqual(cycles(edges), []);
  });
});

describe('each rule catches what it is for', () => {
  const check: Workspace = { name: '@lumen/check', dir: 'packages/check', declared: new Set(['@lumen/oci']) };
  const files = [
    { file: 'packages/check/src/a.ts', specs: ['./b.ts', '@lumen/oci', '@lumen/oci/digest'] },
    { file: 'packages/check/src/c.ts', specs: ['../../../platform/src/model.ts', '@lumen/supply', '@lumen/platform'] },
  ];
  test('an undeclared import', () => {
    assert.deepEqual(undeclared(check, files), [
      'packages/check/src/c.ts imports @lumen/supply',
      'packages/check/src/c.ts imports @lumen/platform',
    ]);
  });
  test('a relative import out of the workspace', () => {
    assert.deepEqual(leaving(check, files), ['packages/check/src/c.ts imports ../../../platform/src/model.ts']);
  });
  test('a shared package importing the platform', () => {
    assert.deepEqual(upward(check, files), ['packages/check/src/c.ts imports @lumen/platform']);
  });
  test('a cycle', () => {
    const edges = new Map([
      ['@lumen/check', ['@lumen/platform']],
      ['@lumen/platform', ['@lumen/check']],
      ['@lumen/oci', []],
    ]);
    assert.deepEqual(cycles(edges), ['@lumen/check → @lumen/platform → @lumen/check']);
  });
  test('the import reader sees static, dynamic and re-export forms', () => {
    const main = imports(join(root, 'packages', 'cli', 'src', 'main.ts'));
    assert.ok(main.includes('./commands/check.ts') && main.includes('./errors.ts'), main.join(', '));
    assert.ok(imports(join(root, 'packages', 'check', 'src', 'index.ts')).includes('./check.ts'));
  });
});
