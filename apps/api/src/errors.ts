/**
 * The one way lumen-api fails: every error a client can see has a stable `code` and is sent as
 * `application/problem+json` (RFC 9457, https://www.rfc-editor.org/rfc/rfc9457). Fastify's own errors
 * (body too large, bad JSON, unsupported media type, schema validation) and dependency outages are
 * mapped here too, so no other module decides a status code for a failure.
 */
import type { FastifyReply } from 'fastify';

/** Stable problem codes; the problem `type` is `urn:lumen:problem:<code>`. */
export const PROBLEMS = {
  validation_failed: { status: 400, title: 'The request does not match the schema' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON' },
  invalid_id: { status: 400, title: 'The id is not a positive 64-bit integer' },
  not_found: { status: 404, title: 'No such resource' },
  item_not_found: { status: 404, title: 'No item with this id' },
  method_not_allowed: { status: 405, title: 'The method is not allowed on this resource' },
  body_too_large: { status: 413, title: 'The request body exceeds 1 MiB' },
  unsupported_media_type: { status: 415, title: 'The request body must be application/json' },
  dependency_unavailable: { status: 503, title: 'A dependency is unavailable; retry later' },
  idempotency_key_invalid: { status: 400, title: 'Invalid Idempotency-Key' },
  idempotency_in_flight: { status: 409, title: 'Request in progress' },
  idempotency_key_reused: { status: 422, title: 'Idempotency-Key reused' },
  idempotency_unavailable: { status: 503, title: 'A dependency is unavailable; retry later' },
  shutting_down: { status: 503, title: 'The server is shutting down' },
  internal: { status: 500, title: 'Internal server error' },
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

/** The body of every error response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail?: string;
  instance?: string;
  /** For `validation_failed`: where and why. */
  errors?: { path: string; message: string }[];
}

/** An error that carries its problem code and, for 405/503, the headers the response needs. */
export class ApiError extends Error {
  readonly code: ProblemCode;
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly errors: Problem['errors'];
  constructor(
    code: ProblemCode,
    detail?: string,
    options: { headers?: Record<string, string>; errors?: Problem['errors']; cause?: unknown } = {},
  ) {
    super(detail ?? PROBLEMS[code].title, { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = PROBLEMS[code].status;
    this.headers = options.headers ?? {};
    this.errors = options.errors;
  }
}

/** Seconds a client should wait before retrying after a dependency outage (a failover takes ~2-3 s). */
export const RETRY_AFTER_SECONDS = 2;

/** A dependency (PostgreSQL or Redis) could not answer: 503 with `Retry-After`. */
export function unavailable(what: string, cause?: unknown): ApiError {
  return new ApiError('dependency_unavailable', `${what} is unavailable`, {
    headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
    cause,
  });
}

/** 400 before the body is read: the `Idempotency-Key` header is not 1–255 visible ASCII characters. */
export function idempotencyKeyInvalid(): ApiError {
  return new ApiError('idempotency_key_invalid', 'The Idempotency-Key header must be 1-255 visible ASCII characters');
}

/** 409: the first request with this key is still running; retry after `retryAfterSeconds`. */
export function idempotencyInFlight(retryAfterSeconds: string): ApiError {
  return new ApiError('idempotency_in_flight', 'A request with this Idempotency-Key is still being processed', {
    headers: { 'retry-after': retryAfterSeconds },
  });
}

/** 422: the key was first used with another method, target or body. */
export function idempotencyKeyReused(): ApiError {
  return new ApiError(
    'idempotency_key_reused',
    'This Idempotency-Key was used for a different request (method, target or body)',
  );
}

/** 503 (fail closed): the idempotency store did not answer, so the keyed request was not executed. */
export function idempotencyUnavailable(retryAfterSeconds: string): ApiError {
  return new ApiError(
    'idempotency_unavailable',
    'The idempotency store is unavailable; nothing was executed, retry with the same key',
    { headers: { 'retry-after': retryAfterSeconds } },
  );
}

/** Builds the problem body for `code`. */
export function problem(code: ProblemCode, detail?: string, instance?: string, errors?: Problem['errors']): Problem {
  const { status, title } = PROBLEMS[code];
  const body: Problem = { type: `urn:lumen:problem:${code}`, title, status, code };
  if (detail !== undefined && detail !== title) body.detail = detail;
  if (instance !== undefined) body.instance = instance;
  if (errors !== undefined && errors.length > 0) body.errors = errors;
  return body;
}

/** Answers `error` as `application/problem+json`: the error handler and the idempotency hooks both answer this way. */
export function sendProblem(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply
    .code(error.statusCode)
    .headers(error.headers)
    .type('application/problem+json')
    .send(problem(error.code, error.message, reply.request.url, error.errors));
}

/** Node socket errors and PostgreSQL SQLSTATEs that mean "the server is not there right now". */
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
const UNAVAILABLE_SQLSTATE = new Set([
  '57P01', // admin_shutdown: the server is stopping
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '57014', // query_canceled: statement_timeout fired
  '25006', // read_only_sql_transaction: the "primary" is a replica (mid-failover)
  '40001', // serialization_failure: safe to retry
  '40P01', // deadlock_detected: safe to retry
  '53300', // too_many_connections
]);

/**
 * Whether `error` means a dependency is unreachable or overloaded (retryable) rather than a bug.
 * Covers pg (SQLSTATE class 08, shutdown codes, client-side connect timeouts) and ioredis
 * (connection closed, command timeout, MaxRetriesPerRequest).
 */
export function isUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_ERRNO.has(code) || UNAVAILABLE_SQLSTATE.has(code) || code.startsWith('08')) return true;
  }
  const message = error.message;
  // Redis answers these while it cannot serve writes yet: a demoted master, a replica loading its dataset,
  // a master without enough replicas. They pass once the failover or the load completes.
  if (/^(READONLY|LOADING|MASTERDOWN|TRYAGAIN|NOREPLICAS) /.test(message)) return true;
  if (
    /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection is closed|Command timed out|Reached the max retries per request|Stream isn't writeable|All sentinels are unreachable|the database system is (starting up|shutting down)|terminating connection/i.test(
      message,
    )
  ) {
    return true;
  }
  return error.name === 'MaxRetriesPerRequestError' || isUnavailableError(error.cause);
}

interface FastifyLikeError extends Error {
  code?: string;
  statusCode?: number;
  validation?: {
    instancePath?: string;
    schemaPath?: string;
    message?: string;
    keyword?: string;
    params?: Record<string, unknown>;
  }[];
  validationContext?: string;
}

/**
 * Maps any thrown value to the {@link ApiError} the client sees. Fastify's own errors keep their meaning
 * under a stable lumen code; unknown errors become `internal` (500) and are logged by the caller.
 */
export function toApiError(thrown: unknown): ApiError {
  if (thrown instanceof ApiError) return thrown;
  const error = (thrown instanceof Error ? thrown : new Error(String(thrown))) as FastifyLikeError;
  if (error.validation !== undefined) {
    const context = error.validationContext ?? 'request';
    // TypeBox reports an unknown field twice: as `additionalProperties` on the object (with the names) and as
    // `boolean` ("schema is false") on the field itself. Keep one entry per field, worded for humans.
    const errors = error.validation.flatMap((v) => {
      const base = `${context}${v.instancePath ?? ''}`;
      const unknown = v.params?.additionalProperties;
      if (Array.isArray(unknown))
        return unknown.map((field) => ({ path: `${base}/${field}`, message: 'unknown field' }));
      if (v.keyword === 'boolean' && v.schemaPath?.endsWith('/additionalProperties')) return [];
      return [{ path: base, message: v.message ?? 'is invalid' }];
    });
    const detail = errors.map((e) => `${e.path} ${e.message}`).join('; ');
    return new ApiError(context === 'params' ? 'invalid_id' : 'validation_failed', detail, { errors, cause: error });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('body_too_large', undefined, { cause: error });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('unsupported_media_type', undefined, { cause: error });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('malformed_json', error.message, { cause: error });
  }
  if (error instanceof SyntaxError && error.statusCode === 400) {
    return new ApiError('malformed_json', error.message, { cause: error });
  }
  if (isUnavailableError(error)) return unavailable('a dependency', error);
  if (error.statusCode === 413) return new ApiError('body_too_large', undefined, { cause: error });
  if (error.statusCode === 415) return new ApiError('unsupported_media_type', undefined, { cause: error });
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new ApiError('validation_failed', error.message, { cause: error });
  }
  return new ApiError('internal', undefined, { cause: error });
}
