/** `GET /events`: the append-only audit log, newest first, with the same keyset pagination as /items. */
import type { App } from '../app.ts';
import { listEvents } from '../db/events.ts';
import type { Dependencies } from '../dependencies.ts';
import { checkedId } from '../ids.ts';
import { EventList, LIMIT_DEFAULT, ListEventsQuery, problems } from '../schemas.ts';

export function registerEventRoutes(app: App, deps: Pick<Dependencies, 'reads'>): void {
  app.get(
    '/events',
    {
      schema: {
        summary: 'List events, newest first (keyset pagination, optional type filter)',
        querystring: ListEventsQuery,
        response: { 200: EventList, ...problems(400, 503) },
      },
    },
    async (request, reply) => {
      const { type } = request.query;
      const limit = request.query.limit ?? LIMIT_DEFAULT;
      const after = request.query.after === undefined ? undefined : checkedId(request.query.after, 'after');
      const { value: rows } = await deps.reads.read((q) => listEvents(q, { type, after, limit: limit + 1 }));
      const events = rows.slice(0, limit);
      const next = rows.length > limit ? (events.at(-1)?.id ?? null) : null;
      if (next !== null) {
        const typePart = type === undefined ? '' : `type=${type}&`;
        reply.header('link', `</events?${typePart}limit=${limit}&after=${next}>; rel="next"`);
      }
      return { events, next_after: next };
    },
  );
}
