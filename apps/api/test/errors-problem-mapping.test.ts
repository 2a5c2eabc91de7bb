/**
 * errors.ts is the one place that decides what a failure looks like to a client: Fastify's own errors keep
 * their meaning under stable codes, dependency outages become 503 + Retry-After, everything else 500.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, isUnavailableError, PROBLEMS, problem, toApiError } from '../src/errors.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('dependency outages → 503 dependency_unavailable with Retry-After', () => {
  const outages: [string, Error][] = [
    ['connection refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['pg admin shutdown', withCode('terminating connection due to administrator command', '57P01')],
    ['pg starting up', withCode('the database system is starting up', '57P03')],
    ['pg statement timeout', withCode('canceling statement due to statement timeout', '57014')],
    ['pg connection exception class', withCode('connection failure', '08006')],
    ['pg read-only primary (mid-failover)', withCode('cannot execute INSERT in a read-only transaction', '25006')],
    ['pg pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['pg connection lost', new Error('Connection terminated unexpectedly')],
    ['pg client query timeout', new Error('Query read timeout')],
    ['ioredis command timeout', new Error('Command timed out')],
    ['ioredis closed', new Error('Connection is closed.')],
    [
      'ioredis retries',
      Object.assign(new Error('Reached the max retries per request limit (which is 1).'), {
        name: 'MaxRetriesPerRequestError',
      }),
    ],
    ['redis demoted master', new Error("READONLY You can't write against a read only replica.")],
    ['redis loading', new Error('LOADING Redis is loading the dataset in memory')],
    ['wrapped cause', new Error('query failed', { cause: withCode('connect ECONNRESET', 'ECONNRESET') })],
  ];
  for (const [name, error] of outages) {
    it(name, () => {
      assert.equal(isUnavailableError(error), true);
      const mapped = toApiError(error);
      assert.equal(mapped.code, 'dependency_unavailable');
      assert.equal(mapped.statusCode, 503);
      assert.match(mapped.headers['retry-after'] ?? '', /^\d+$/);
    });
  }
});

describe('bugs and data errors are not outages', () => {
  for (const [name, error] of [
    ['undefined column', withCode('column "x" does not exist', '42703')],
    ['check violation', withCode('new row violates check constraint', '23514')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a string thrown', 'boom' as unknown as Error],
  ] as [string, Error][]) {
    it(`${name} → 500 internal`, () => {
      assert.equal(isUnavailableError(error), false);
      const mapped = toApiError(error);
      assert.equal(mapped.code, 'internal');
      assert.equal(mapped.statusCode, 500);
    });
  }
});

describe("Fastify's errors keep their meaning", () => {
  for (const [fastifyCode, status, code] of [
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'body_too_large'],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'unsupported_media_type'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'malformed_json'],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 'malformed_json'],
  ] as const) {
    it(`${fastifyCode} → ${status} ${code}`, () => {
      const mapped = toApiError(Object.assign(withCode('x', fastifyCode), { statusCode: status }));
      assert.equal(mapped.code, code);
      assert.equal(mapped.statusCode, status);
    });
  }

  it('schema errors name each offending field once', () => {
    const error = Object.assign(new Error('validation'), {
      validationContext: 'body',
      validation: [
        {
          keyword: 'boolean',
          schemaPath: '#/additionalProperties',
          instancePath: '/color',
          message: 'schema is false',
        },
        {
          keyword: 'additionalProperties',
          schemaPath: '#',
          instancePath: '',
          params: { additionalProperties: ['color'] },
        },
        { keyword: 'type', instancePath: '/name', message: 'must be string' },
      ],
    });
    const mapped = toApiError(error);
    assert.equal(mapped.code, 'validation_failed');
    assert.deepEqual(mapped.errors, [
      { path: 'body/color', message: 'unknown field' },
      { path: 'body/name', message: 'must be string' },
    ]);
    const params = toApiError(Object.assign(new Error('v'), { validationContext: 'params', validation: [] }));
    assert.equal(params.code, 'invalid_id');
  });
});

describe('problem bodies', () => {
  it('follow RFC 9457 with a stable code for every problem', () => {
    for (const code of Object.keys(PROBLEMS) as (keyof typeof PROBLEMS)[]) {
      const body = problem(code, undefined, '/x');
      assert.equal(body.type, `urn:lumen:problem:${code}`);
      assert.equal(body.status, PROBLEMS[code].status);
      assert.equal(body.title, PROBLEMS[code].title);
      assert.equal(body.instance, '/x');
      assert.equal('detail' in body, false, 'no detail that only repeats the title');
    }
    assert.equal(problem('item_not_found', 'no item with id 7').detail, 'no item with id 7');
    assert.equal(new ApiError('method_not_allowed', 'x', { headers: { allow: 'GET' } }).headers.allow, 'GET');
  });
});
