/**
 * Random and malformed requests for the fuzz drill, from a seeded generator so a failing request can be made
 * again (`DRILL_SEED`). What they aim at: every route and method, ids and query values of every shape, content
 * types the API does not take, bodies that are not JSON or not UTF-8, names PostgreSQL cannot store (U+0000),
 * lone surrogates, control characters, oversized bodies and keys, deep nesting. Every answer must be a 2xx or
 * a 4xx: a 5xx is a failure of the API, whatever was sent.
 *
 * DELETE only ever names ids no item can have (beyond 2^40, or not numbers): the steady load's acknowledged items
 * must survive the fuzzing, so a lost one means a real loss.
 */

/** One generated request: what fetch sends. */
export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function fuzzer(seed: number): () => FuzzRequest {
  const random = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const int = (max: number) => Math.floor(random() * max);

  const strings = (): string =>
    pick([
      '',
      'x',
      'a'.repeat(256),
      'a'.repeat(257),
      'nul \u0000 inside',
      '\u0000',
      'lone \ud800 surrogate',
      '\udfff',
      'tab\tnew\nline\r',
      '\u0007\u001b[31m',
      'emoji 🚀🔥',
      'ß∂ƒ©˙∆˚¬ 中文 العربية',
      '   ',
      "'; DROP TABLE items; --",
      '../../etc/passwd',
      '%00%ff',
      '\u202e right-to-left',
      String(int(1e9)),
    ]);
  const values = (depth: number): unknown => {
    const choice = int(depth > 3 ? 5 : 8);
    if (choice === 0) return strings();
    if (choice === 1) return int(2) === 0 ? int(1e6) : -random() * 1e308;
    if (choice === 2) return pick([true, false, null]);
    if (choice === 3) return pick([Number.MAX_SAFE_INTEGER, 2 ** 64, -0, 0.1]);
    if (choice === 4) return strings().repeat(int(3));
    if (choice === 5) return Array.from({ length: int(4) }, () => values(depth + 1));
    return Object.fromEntries(Array.from({ length: int(4) }, () => [strings(), values(depth + 1)]));
  };
  const ids = () =>
    pick([
      String(2 ** 40 + int(1e6)),
      '0',
      '-1',
      '1.5',
      '1e3',
      'abc',
      '9'.repeat(40),
      '%00',
      '%F0%9F%9A%80',
      '..%2F..',
      ' ',
      '0x10',
    ]);
  const paths = (method: string) => {
    const id = ids();
    return pick([
      '/items',
      `/items?limit=${pick(['0', '-1', '5', '101', 'x', '1e2', '', '%00', '5&limit=6'])}`,
      `/items?cursor=${pick(['', 'garbage', '%FF%FE', 'a'.repeat(2000), String(2 ** 53)])}`,
      `/items/${method === 'DELETE' ? id : pick([id, String(1 + int(50))])}`,
      '/hello',
      `/hello?${strings().slice(0, 20)}`,
      '/health',
      '/livez',
      '/readyz',
      `/events?after=${pick(['0', '-5', 'x', String(2 ** 63)])}&limit=${pick(['1', '1000', 'y'])}`,
      '/openapi.json',
      `/${encodeURIComponent(strings().toWellFormed()).slice(0, 100)}`,
      `/items/${'a'.repeat(5000)}`,
      '//items',
      '/items/',
      '/items/1/2',
      '/%2e%2e/%2e%2e/etc/passwd',
    ]);
  };
  const contentTypes = [
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'application/merge-patch+json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    '',
    'garbage',
  ];
  const bodies = (): string | Uint8Array<ArrayBuffer> =>
    pick<() => string | Uint8Array<ArrayBuffer>>([
      () => JSON.stringify({ name: strings() }),
      () => JSON.stringify({ name: strings(), extra: values(0) }),
      () => JSON.stringify({ name: values(0) }),
      () => JSON.stringify(values(0)),
      () => JSON.stringify({ name: 'x' }).slice(0, 1 + int(10)),
      () => '{"name": "unterminated',
      () => `${'['.repeat(5000)}${']'.repeat(5000)}`,
      () => `{"name":"${'x'.repeat(1024 * 1024 + 10)}"}`,
      () => new Uint8Array([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0x22, 0x7d]),
      () => '{"name":"a","name":"b"}',
      () => '{"name":"\\u0000"}',
      () => '{"name":"\\ud800"}',
      () => '',
    ])();
  const keys = () =>
    pick([
      undefined,
      `fuzz-${int(1e9)}`,
      `fuzz-${int(20)}`,
      '',
      ' ',
      'k'.repeat(255),
      'k'.repeat(256),
      'with space',
      'ünïcode'.normalize('NFD').replace(/[^\x20-\x7e]/g, '?'),
      '"quoted"',
    ]);

  return () => {
    const method = pick(['GET', 'GET', 'POST', 'POST', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS', 'FOO']);
    const headers: Record<string, string> = {};
    const contentType = pick(contentTypes);
    if (contentType !== '') headers['content-type'] = contentType;
    const key = keys();
    if (key !== undefined) headers['idempotency-key'] = key;
    if (int(4) === 0) headers.accept = pick(['application/xml', '*/*', 'text/html', 'application/problem+json']);
    const request: FuzzRequest = { method, path: paths(method), headers };
    if (method !== 'GET' && method !== 'HEAD' && int(6) !== 0) request.body = bodies();
    return request;
  };
}
