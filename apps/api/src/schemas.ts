/**
 * Request and response schemas, declared once: Fastify validates with them, the TypeBox type provider derives
 * the handler types from them, and @fastify/swagger turns them into /openapi.json.
 */
import { type Static, Type } from '@fastify/type-provider-typebox';
import type { EventType as EventTypeName } from './db/events.ts';

/** Largest id PostgreSQL's bigint can hold; bigger ids are rejected as 400, never sent to the database. */
export const MAX_ID = 9_223_372_036_854_775_807n;

/** Limits of a name, counted in characters after trimming. */
export const NAME_MIN = 1;
export const NAME_MAX = 256;

/** Page size: default and maximum. */
export const LIMIT_DEFAULT = 100;
export const LIMIT_MAX = 1000;

/** 1–19 decimal digits, no sign, no leading zero; the bigint range is checked by the handler. */
const idString = (description: string) => Type.String({ pattern: '^[1-9][0-9]{0,18}$', description, examples: ['42'] });

export const Problem = Type.Object(
  {
    type: Type.String({ description: 'urn:lumen:problem:<code>' }),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'Stable machine-readable code (see docs/api.md)' }),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { description: 'RFC 9457 problem details (application/problem+json)' },
);

export const Item = Type.Object(
  {
    id: Type.Integer({ minimum: 1 }),
    name: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);

export const ItemList = Type.Object(
  { items: Type.Array(Item), next_after: Type.Union([Type.Integer(), Type.Null()]) },
  { description: 'Newest first; `next_after` (also in the `Link: rel="next"` header) fetches the next page' },
);

export const CreateItemBody = Type.Object(
  {
    name: Type.String({
      maxLength: 4096,
      description: `${NAME_MIN}–${NAME_MAX} characters after trimming surrounding whitespace`,
    }),
  },
  { additionalProperties: false },
);
export type CreateItemBody = Static<typeof CreateItemBody>;

export const IdParams = Type.Object({ id: idString('Item id') }, { additionalProperties: false });
export type IdParams = Static<typeof IdParams>;

const pageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMIT_MAX, default: LIMIT_DEFAULT })),
  after: Type.Optional(idString('Return entries with an id below this one (the `next_after` of the previous page)')),
};

export const ListItemsQuery = Type.Object(pageQuery, { additionalProperties: false });
export type ListItemsQuery = Static<typeof ListItemsQuery>;

/** Written out (not mapped from EVENT_TYPES) so the literal union survives into the handler types. */
const EventType = Type.Union([Type.Literal('ItemCreated'), Type.Literal('ItemDeleted')]);
// Fails to compile when db/events.ts gains a type this schema does not list.
const _allEventTypes: Static<typeof EventType> = '' as EventTypeName;

export const Event = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  type: EventType,
  item_id: Type.Union([Type.Integer(), Type.Null()]),
  payload: Type.Record(Type.String(), Type.Unknown()),
  created_at: Type.String({ format: 'date-time' }),
});

export const EventList = Type.Object({
  events: Type.Array(Event),
  next_after: Type.Union([Type.Integer(), Type.Null()]),
});

export const ListEventsQuery = Type.Object(
  { ...pageQuery, type: Type.Optional(EventType) },
  { additionalProperties: false },
);
export type ListEventsQuery = Static<typeof ListEventsQuery>;

export const Hello = Type.Object({ message: Type.String(), counter: Type.Integer() });

const check = Type.Object({
  status: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('lagging')]),
  latency_ms: Type.Optional(Type.Number()),
  lag_ms: Type.Optional(Type.Number()),
  kind: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
});
export const Health = Type.Object({
  status: Type.Union([Type.Literal('healthy'), Type.Literal('degraded')]),
  checks: Type.Object({ redis: check, postgres_rw: check, postgres_ro: check }),
});
export type Health = Static<typeof Health>;
export type Check = Static<typeof check>;

export const Status = Type.Object({ status: Type.String() });

/** Problem responses a route can produce, for the OpenAPI document. */
export const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, Problem]));
