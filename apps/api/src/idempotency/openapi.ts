/** What idempotency adds to the OpenAPI description of each POST/DELETE route. */
import type { RouteOptions } from 'fastify';
import { Problem } from '../schemas.ts';

/** Adds the `Idempotency-Key` header parameter and the idempotency answers (400, 409, 422, 503) to `route`. */
export function documentIdempotency(route: RouteOptions, ttlSeconds: number): void {
  route.schema ??= {};
  const schema = route.schema as { headers?: { properties?: Record<string, unknown> }; response?: unknown };
  schema.headers ??= { type: 'object', properties: {} } as { properties: Record<string, unknown> };
  schema.headers.properties ??= {};
  schema.headers.properties['idempotency-key'] = {
    type: 'string',
    minLength: 1,
    maxLength: 255,
    pattern: '^[!-~]+$',
    description:
      `Optional. 1-255 visible ASCII characters (else 400). The first request with a key executes; a retry with the ` +
      `same key, method, target and body gets the stored status, body, Content-Type and Location with ` +
      `\`Idempotency-Replayed: true\` for ${ttlSeconds} s; 409 + Retry-After while the first still runs; 422 when ` +
      'the key was used for another request; 503 + Retry-After when the idempotency store is unreachable. ' +
      '5xx and 400/408/409/413/415/422/429 answers are not stored: retrying them executes again.',
  };
  schema.response ??= {};
  const response = schema.response as Record<string, unknown>;
  for (const status of [400, 409, 422, 503]) response[status] ??= Problem;
}
