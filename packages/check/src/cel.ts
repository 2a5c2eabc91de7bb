/**
 * The CEL engine: @bufbuild/cel, a conformant CEL implementation, set up the way Kubernetes
 * evaluates admission CEL. Two differences from plain JS matter (measured on these machines): Kubernetes integers
 * are CEL `int`, so JSON integers become BigInt (a JS number would be a CEL double and
 * `size(x) == 1` would still hold, but `x.replicas + 1` and comparisons with int literals would
 * not); and the engine returns CelError values instead of throwing.
 */
import { celEnv, isCelError, isCelList, isCelMap, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

/** The environment: CEL standard library plus the strings extension Kubernetes enables. */
const env = celEnv({ funcs: strings });

/** A compiled expression: evaluates against bindings, returns a JS value or an Error. */
export type Compiled = (bindings: Record<string, unknown>) => unknown;

/** Compiles an expression once; throws with the parser's message when it does not parse. */
export function compile(expression: string): Compiled {
  const run = plan(env, parse(expression));
  return (bindings) => {
    const result = run(bindings as never);
    if (isCelError(result)) return new Error(result.message);
    return result;
  };
}

/**
 * Converts parsed JSON into CEL input the way the Kubernetes API server would see it:
 * integers become BigInt (CEL `int`), everything else is kept as is.
 */
export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toCel(v);
    return out;
  }
  return value;
}

/** Renders a CEL result as text for messages (lists and maps become JSON-like). */
export function celText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (isCelList(value)) {
    const items: string[] = [];
    for (const item of value) items.push(celText(item));
    return `[${items.join(', ')}]`;
  }
  if (isCelMap(value)) return '{…}';
  return String(value);
}
