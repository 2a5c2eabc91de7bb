/**
 * A small evaluator for the Argo Rollouts success/failure conditions lumen renders (an expr-lang
 * subset: `len()`, `isNaN()`, `result[i]`, numbers, comparisons, `&&`, `||`, `!`, parentheses), so
 * the test evaluates the rendered strings themselves rather than a copy of their logic.
 * `result` is what the Prometheus provider passes for a vector: the values of its samples.
 */

type Value = number | boolean | number[];
type Node =
  | { t: 'num'; v: number }
  | { t: 'result' }
  | { t: 'index'; i: Node }
  | { t: 'call'; f: 'len' | 'isNaN'; arg: Node }
  | { t: 'not'; e: Node }
  | { t: 'bin'; op: string; l: Node; r: Node };

function parse(expression: string): Node {
  const tokens = expression.match(/\d+(?:\.\d+)?(?:e[-+]?\d+)?|[A-Za-z_]\w*|&&|\|\||[<>=!]=|[<>!()[\]]/g) ?? [];
  let i = 0;
  const next = () => tokens[i++];
  const expect = (t: string) => {
    if (next() !== t) throw new Error(`expected '${t}' in ${expression}`);
  };
  const primary = (): Node => {
    const t = next();
    if (t === undefined) throw new Error(`unexpected end of ${expression}`);
    if (t === '(') {
      const n = or();
      expect(')');
      return n;
    }
    if (t === '!') return { t: 'not', e: primary() };
    if (/^\d/.test(t)) return { t: 'num', v: Number(t) };
    if (t === 'result') {
      if (tokens[i] !== '[') return { t: 'result' };
      next();
      const index = or();
      expect(']');
      return { t: 'index', i: index };
    }
    if (t === 'len' || t === 'isNaN') {
      expect('(');
      const arg = or();
      expect(')');
      return { t: 'call', f: t, arg };
    }
    throw new Error(`unsupported token '${t}' in ${expression}`);
  };
  const comparison = (): Node => {
    const l = primary();
    const op = tokens[i];
    if (op && ['<', '<=', '>', '>=', '==', '!='].includes(op)) {
      next();
      return { t: 'bin', op, l, r: primary() };
    }
    return l;
  };
  const and = (): Node => {
    let n = comparison();
    while (tokens[i] === '&&') {
      next();
      n = { t: 'bin', op: '&&', l: n, r: comparison() };
    }
    return n;
  };
  const or = (): Node => {
    let n = and();
    while (tokens[i] === '||') {
      next();
      n = { t: 'bin', op: '||', l: n, r: and() };
    }
    return n;
  };
  const root = or();
  if (i !== tokens.length) throw new Error(`trailing tokens in ${expression}`);
  return root;
}

const truthy = (v: Value) => (Array.isArray(v) ? v.length > 0 : Boolean(v));

function evaluate(n: Node, result: number[]): Value {
  switch (n.t) {
    case 'num':
      return n.v;
    case 'result':
      return result;
    case 'index': {
      const v = result[Number(evaluate(n.i, result))];
      // expr-lang fails on an out-of-range index; Argo Rollouts then records an Error measurement.
      if (v === undefined) throw new Error('index out of range');
      return v;
    }
    case 'call': {
      const arg = evaluate(n.arg, result);
      return n.f === 'len' ? (Array.isArray(arg) ? arg.length : 1) : typeof arg === 'number' && Number.isNaN(arg);
    }
    case 'not':
      return !truthy(evaluate(n.e, result));
    case 'bin': {
      // && and || short-circuit as in expr-lang: `len(result) > 0 && result[0] < x` never indexes an empty result.
      if (n.op === '&&') return truthy(evaluate(n.l, result)) && truthy(evaluate(n.r, result));
      if (n.op === '||') return truthy(evaluate(n.l, result)) || truthy(evaluate(n.r, result));
      const a = Number(evaluate(n.l, result));
      const b = Number(evaluate(n.r, result));
      return { '<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b, '==': a === b, '!=': a !== b }[n.op] ?? false;
    }
  }
}

/** Evaluates a rendered condition against a measurement; throws where Argo Rollouts would record an Error. */
export function evaluateCondition(expression: string, result: number[]): boolean {
  return truthy(evaluate(parse(expression), result));
}
