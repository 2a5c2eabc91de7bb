/**
 * Profiling endpoints for the admin port, registered only with `LUMEN_PROFILING=1` (otherwise they do not exist:
 * 404). Named after Go's pprof paths, which operators know, but the formats are V8's, which Chrome DevTools and
 * VS Code open directly:
 *
 * - `GET /debug/pprof/profile?seconds=N` — a CPU profile of the next N seconds (default 10, 1–60) through
 *   `node:inspector`, as a `.cpuprofile` JSON document. One at a time: a second concurrent request gets 409.
 * - `GET /debug/pprof/heap` — a heap snapshot (`.heapsnapshot` JSON, streamed). Taking it pauses the process for
 *   a moment proportional to the heap size: not something to scrape.
 *
 * The admin port is never exposed through the ingress; these endpoints expose memory contents, keep it that way.
 */
import { Session } from 'node:inspector/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapSnapshot } from 'node:v8';
import type { FastifyInstance } from 'fastify';

/** Longest CPU profile one request may ask for, in seconds. */
export const MAX_PROFILE_SECONDS = 60;
const DEFAULT_PROFILE_SECONDS = 10;

/** Adds the profiling routes to the admin app when `enabled`. */
export function registerProfilingRoutes(admin: FastifyInstance, options: { enabled: boolean }): void {
  if (!options.enabled) return;
  let profiling = false;

  admin.get('/debug/pprof/profile', async (request, reply) => {
    const raw = (request.query as { seconds?: string }).seconds ?? String(DEFAULT_PROFILE_SECONDS);
    const seconds = /^\d{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(seconds >= 1 && seconds <= MAX_PROFILE_SECONDS)) {
      return problem(
        reply,
        400,
        'invalid_profile_duration',
        `seconds must be an integer from 1 to ${MAX_PROFILE_SECONDS}`,
      );
    }
    if (profiling) return problem(reply, 409, 'profile_in_progress', 'a CPU profile is already being taken');
    profiling = true;
    const session = new Session();
    try {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      await sleep(seconds * 1000);
      const { profile } = await session.post('Profiler.stop');
      return reply
        .type('application/json')
        .header('content-disposition', `attachment; filename="lumen-api-${Date.now()}.cpuprofile"`)
        .send(JSON.stringify(profile));
    } finally {
      session.disconnect();
      profiling = false;
    }
  });

  admin.get('/debug/pprof/heap', async (_request, reply) => {
    return reply
      .type('application/json')
      .header('content-disposition', `attachment; filename="lumen-api-${Date.now()}.heapsnapshot"`)
      .send(getHeapSnapshot());
  });
}

function problem(reply: import('fastify').FastifyReply, status: number, code: string, detail: string) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: `urn:lumen:problem:${code}`, title: detail, status, code });
}
