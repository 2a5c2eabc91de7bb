/** Kubernetes label selectors (`matchLabels` + `matchExpressions`) and equality maps. */

export interface LabelSelector {
  matchLabels?: Record<string, string> | undefined;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> | undefined;
}

/**
 * True when `labels` satisfy the selector. An empty selector `{}` selects everything, as in
 * Kubernetes; callers decide what an absent selector means (it differs between fields).
 */
export function matchesSelector(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const expr of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expr.key);
    const value = labels[expr.key];
    switch (expr.operator) {
      case 'In':
        if (!has || !(expr.values ?? []).includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && (expr.values ?? []).includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        // An unknown operator is rejected by the API server; select nothing rather than guess.
        return false;
    }
  }
  return true;
}

/** A plain `key: value` map selector (Service.spec.selector): every pair must match. */
export function matchesMap(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
