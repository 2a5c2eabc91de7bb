/** `GET /hello`: a greeting and a counter kept in the key-value store (Redis `INCR hello_counter`). */
import type { App } from '../app.ts';
import type { Dependencies } from '../dependencies.ts';
import { Hello, problems } from '../schemas.ts';

export function registerHelloRoutes(app: App, deps: Pick<Dependencies, 'kv'>): void {
  app.get(
    '/hello',
    { schema: { summary: 'Greeting with a shared counter', response: { 200: Hello, ...problems(503) } } },
    async () => ({ message: 'Hello from lumen-api', counter: await deps.kv.incr('hello_counter') }),
  );
}
