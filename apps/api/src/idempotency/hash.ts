/**
 * The fingerprint of a keyed request: method + request target (path and query) + SHA-256 of the raw body bytes,
 * so the same key with another body, another target or another method is told apart (422).
 */
import { createHash, type Hash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { STATE, type WithState } from './state.ts';

/** A fresh body hash for a keyed request; {@link hashJsonBodies} feeds it. */
export function bodyHash(): Hash {
  return createHash('sha256');
}

/**
 * Replaces the JSON parser with one that hashes the raw bytes of a keyed request's body, then parses them exactly as
 * Fastify's own parser does.
 *
 * The fingerprint is of the body as sent, not as parsed. JSON is the only body parser lumen-api has; any other content
 * type is answered 415 before the fingerprint is used. Measured against a Transform stream teed in preParsing: one
 * stream, pipe and their listeners less per keyed request (docs/telemetry.md#benchmark).
 */
export function hashJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    (request as WithState)[STATE]?.hash?.update(body as Buffer);
    parseJson(request, (body as Buffer).toString(), done);
  });
}

/** The fingerprint of `request` once its body was read; `hash` cannot be used afterwards. */
export function fingerprint(request: FastifyRequest, hash: Hash): string {
  return `${request.method} ${request.url} ${hash.digest('hex')}`;
}
