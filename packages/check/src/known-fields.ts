/**
 * Unknown-field detection for kinds that have a kubernetes-models package. Their validators
 * (compiled from the OpenAPI schemas) accept any extra field, as the API server's lenient
 * decoding would — and a misspelt `resouces:` silently drops the limits. The field catalogue
 * comes from the same packages' type declarations (.d.ts), which list every field of every
 * schema: they are parsed once per type, lazily, and cached.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { getAsset, isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';

/**
 * Where the .d.ts files are read: node_modules on disk; in the single executable, the asset its build packs them
 * into (`model-types.json`: `/node_modules/<package>/<path>.d.ts` → text, scripts/build-cli.ts), with the same
 * layout, so the lookups below are the same.
 */
interface TypeFiles {
  exists(file: string): boolean;
  read(file: string): string;
  /** The .d.ts beside a model module's code (`kubernetes-models/apps/v1/Deployment`). */
  of(module: string): string;
}

/** The asset key of the packed .d.ts files. */
export const MODEL_TYPES_ASSET = 'model-types.json';

const typeFiles: TypeFiles = isSea() ? packedTypeFiles() : diskTypeFiles();

function diskTypeFiles(): TypeFiles {
  return {
    exists: existsSync,
    read: (file) => readFileSync(file, 'utf8'),
    of: (module) => fileURLToPath(import.meta.resolve(module)).replace(/\.(m?js)$/, '.d.ts'),
  };
}

function packedTypeFiles(): TypeFiles {
  let files: Record<string, string> | undefined;
  const all = () => {
    files ??= JSON.parse(getAsset(MODEL_TYPES_ASSET, 'utf8')) as Record<string, string>;
    return files;
  };
  return {
    exists: (file) => Object.hasOwn(all(), file),
    read: (file) => {
      const text = all()[file];
      if (text === undefined) throw new Error(`${file}: not in the executable's ${MODEL_TYPES_ASSET}`);
      return text;
    },
    of: (module) => `/node_modules/${module}.d.ts`,
  };
}

/** The shape of a field's value, as far as unknown-field detection needs it. */
type FieldType =
  | { kind: 'any' }
  | { kind: 'array'; items: FieldType }
  | { kind: 'map'; values: FieldType }
  | { kind: 'object'; fields: Map<string, FieldType> }
  | { kind: 'ref'; name: string; file: string };

const any: FieldType = { kind: 'any' };

interface DtsFile {
  text: string;
  /** Imported name → module specifier. */
  imports: Map<string, string>;
  /** Exported alias → local name (`export type { IContainer as IIoK8sApiCoreV1Container }`). */
  aliases: Map<string, string>;
}

const files = new Map<string, DtsFile>();
const resolved = new Map<string, FieldType>();

function readDts(file: string): DtsFile {
  const cached = files.get(file);
  if (cached) return cached;
  // Comments carry `{`, `"` and `;` that would confuse the scanner below.
  const text = typeFiles
    .read(file)
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    for (const part of (m[1] ?? '').split(',')) {
      const [orig, as] = part.trim().split(/\s+as\s+/);
      if (orig) imports.set((as ?? orig).trim(), m[2] as string);
    }
  }
  const aliases = new Map<string, string>();
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of (m[1] ?? '').split(',')) {
      const [orig, as] = part.trim().split(/\s+as\s+/);
      if (orig && as) aliases.set(as.trim(), orig.trim());
    }
  }
  const parsed = { text, imports, aliases };
  files.set(file, parsed);
  return parsed;
}

/** Finds the .d.ts file of a module specifier, relative to the file importing it. */
function locate(specifier: string, fromFile: string): string | undefined {
  if (specifier.startsWith('.')) {
    const base = resolve(dirname(fromFile), specifier).replace(/\.(m?js)$/, '');
    return typeFiles.exists(`${base}.d.ts`) ? `${base}.d.ts` : undefined;
  }
  const parts = specifier.split('/');
  const pkgLen = specifier.startsWith('@') ? 2 : 1;
  const pkg = parts.slice(0, pkgLen).join('/');
  const sub = parts.slice(pkgLen).join('/') || 'index';
  for (let dir = dirname(fromFile); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', pkg, `${sub.replace(/\.(m?js)$/, '')}.d.ts`);
    if (typeFiles.exists(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** A tiny scanner over TypeScript type expressions as the generator writes them. */
class TypeParser {
  pos = 0;
  readonly text: string;
  readonly file: string;
  constructor(text: string, file: string, pos = 0) {
    this.text = text;
    this.file = file;
    this.pos = pos;
  }
  ws(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] as string)) this.pos++;
  }
  eat(token: string): boolean {
    this.ws();
    if (this.text.startsWith(token, this.pos)) {
      this.pos += token.length;
      return true;
    }
    return false;
  }
  union(): FieldType {
    const options = [this.postfix()];
    while (this.eat('|')) options.push(this.postfix());
    // Structured options win over scalars (`number | string` is a scalar either way).
    return options.find((o) => o.kind !== 'any') ?? any;
  }
  postfix(): FieldType {
    let t = this.primary();
    while (this.eat('[]')) t = { kind: 'array', items: t };
    return t;
  }
  primary(): FieldType {
    this.ws();
    if (this.eat('Array<')) {
      const items = this.union();
      this.eat('>');
      return { kind: 'array', items };
    }
    if (this.eat('(')) {
      const t = this.union();
      this.eat(')');
      return t;
    }
    if (this.eat('{')) return this.members();
    const ch = this.text[this.pos];
    if (ch === '"' || ch === "'") {
      const end = this.text.indexOf(ch as string, this.pos + 1);
      this.pos = end + 1;
      return any;
    }
    const m = /^[A-Za-z_$][\w$.]*/.exec(this.text.slice(this.pos, this.pos + 300));
    if (!m) throw new Error(`cannot parse type at ${this.file}:${this.pos}`);
    this.pos += m[0].length;
    const name = m[0];
    if (/^(string|number|boolean|any|unknown|null|undefined|object|true|false|never)$/.test(name)) return any;
    return { kind: 'ref', name, file: this.file };
  }
  /** After `{`: property list, index signature, or `{}` (free-form). */
  members(): FieldType {
    const fields = new Map<string, FieldType>();
    let values: FieldType | undefined;
    for (;;) {
      if (this.eat('}')) break;
      this.ws();
      if (this.eat('[')) {
        const close = this.text.indexOf(']', this.pos);
        this.pos = close + 1;
        this.eat(':');
        values = this.union();
      } else {
        const m = /^"([^"]*)"|^([\w$]+)/.exec(this.text.slice(this.pos, this.pos + 300));
        if (!m) throw new Error(`cannot parse member at ${this.file}:${this.pos}`);
        this.pos += m[0].length;
        this.eat('?');
        this.eat(':');
        fields.set((m[1] ?? m[2]) as string, this.union());
      }
      this.eat(';');
      this.eat(',');
    }
    if (values) return { kind: 'map', values };
    // `{}` is what the generator writes for x-kubernetes-preserve-unknown-fields.
    return fields.size === 0 ? any : { kind: 'object', fields };
  }
}

/** Parses the declaration of a named type in a .d.ts file. */
function declaration(file: string, name: string): FieldType {
  const dts = readDts(file);
  const local = dts.aliases.get(name) ?? name;
  const iface = new RegExp(`export\\s+(?:declare\\s+)?interface\\s+${local}\\b[^{]*\\{`).exec(dts.text);
  if (iface) {
    const t = new TypeParser(dts.text, file, iface.index + iface[0].length).members();
    // TypeMeta (apiVersion, kind) is inherited through `extends`; allow it everywhere it is.
    if (t.kind === 'object' && /extends\s+TypeMeta/.test(iface[0])) {
      t.fields.set('apiVersion', any);
      t.fields.set('kind', any);
    }
    return t;
  }
  const alias = new RegExp(`export\\s+(?:declare\\s+)?type\\s+${local}\\s*=`).exec(dts.text);
  if (alias) return new TypeParser(dts.text, file, alias.index + alias[0].length).union();
  const imported = dts.imports.get(name);
  if (imported) {
    const target = locate(imported, file);
    if (target) return resolveRef({ kind: 'ref', name, file: target });
  }
  return any;
}

function resolveRef(t: FieldType): FieldType {
  if (t.kind !== 'ref') return t;
  const key = `${t.file}#${t.name}`;
  const done = resolved.get(key);
  if (done) return done;
  // Placeholder against recursive schemas (JSONSchemaProps refers to itself).
  resolved.set(key, any);
  const dts = readDts(t.file);
  let result: FieldType = any;
  const imported = dts.imports.get(t.name);
  if (imported) {
    const target = locate(imported, t.file);
    if (target) result = resolveRef({ kind: 'ref', name: t.name, file: target });
  } else {
    result = declaration(t.file, t.name);
  }
  result = resolveRef(result);
  resolved.set(key, result);
  return result;
}

function walk(value: unknown, type: FieldType, path: string, out: string[]): void {
  const t = resolveRef(type);
  if (value === null || typeof value !== 'object') return;
  if (t.kind === 'array') {
    if (Array.isArray(value)) for (const [i, item] of value.entries()) walk(item, t.items, `${path}[${i}]`, out);
  } else if (t.kind === 'map') {
    for (const [k, v] of Object.entries(value)) walk(v, t.values, `${path}.${k}`, out);
  } else if (t.kind === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      const sub = t.fields.get(k);
      if (sub === undefined) out.push(`${path}.${k} is not a known field`);
      else walk(v, sub, `${path}.${k}`, out);
    }
  }
}

const roots = new Map<string, FieldType | null>();

/** The declared type of a kubernetes-models module's main interface (`I<Kind>`), or null. */
function rootOf(module: string, kind: string): FieldType | null {
  try {
    const dts = typeFiles.of(module);
    return typeFiles.exists(dts) ? resolveRef({ kind: 'ref', name: `I${kind}`, file: dts }) : null;
  } catch {
    return null;
  }
}

/**
 * Pod templates embedded in CRD models are frozen at the Kubernetes version the models package
 * was generated from (@kubernetes-models/argo-rollouts predates `lifecycle.preStop.sleep`); the
 * CRDs themselves embed the current PodTemplateSpec, so the core model replaces them.
 */
const podTemplateOverrides: Record<string, string[]> = {
  '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout': ['spec', 'template'],
};

function override(root: FieldType, path: string[]): void {
  const template = rootOf('kubernetes-models/v1/PodTemplateSpec', 'PodTemplateSpec');
  let node = root;
  for (const [i, key] of path.entries()) {
    if (node.kind !== 'object') return;
    if (i === path.length - 1) {
      if (template) node.fields.set(key, template);
      return;
    }
    const next = resolveRef(node.fields.get(key) ?? any);
    node.fields.set(key, next);
    node = next;
  }
}

/**
 * Fields of `obj` that its kind's schema does not know, as `.spec.template.spec.containers[0].resouces
 * is not a known field`. `module` is the kubernetes-models module of the kind.
 */
export function unknownFields(module: string, obj: { kind?: string }): string[] {
  let root = roots.get(module);
  if (root === undefined) {
    root = rootOf(module, obj.kind ?? '');
    if (root?.kind === 'object') root.fields.set('status', any);
    const path = podTemplateOverrides[module];
    if (root && path) override(root, path);
    roots.set(module, root);
  }
  if (root?.kind !== 'object') return [];
  const out: string[] = [];
  walk(obj, root, '', out);
  return out;
}
