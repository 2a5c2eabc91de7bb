/**
 * A TCP proxy on a free loopback port that delays every byte going to the target by `delayMs` (one
 * direction, as Chaos Mesh's NetworkChaos `direction: to` injects latency) and forwards the answers
 * at once. It logs, in order, when each chunk arrived from either side, so a test can tell whether a
 * client sent a request before or only after an earlier answer came back — an ordering, not a timing.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface ProxyEvent {
  /** `up`: client → target (delayed); `down`: target → client. */
  direction: 'up' | 'down';
  /** The chunk as it arrived at the proxy. */
  bytes: Buffer;
}

export interface DelayProxy {
  readonly host: string;
  readonly port: number;
  /** Every chunk in the order it reached the proxy. */
  readonly events: ProxyEvent[];
  /** Client connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startDelayProxy(target: { host: string; port: number }, delayMs: number): Promise<DelayProxy> {
  const events: ProxyEvent[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((client) => {
    connections++;
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (bytes: Buffer) => {
      events.push({ direction: 'up', bytes });
      setTimeout(() => upstream.writable && upstream.write(bytes), delayMs);
    });
    upstream.on('data', (bytes: Buffer) => {
      events.push({ direction: 'down', bytes });
      if (client.writable) client.write(bytes);
    });
    client.on('end', () => setTimeout(() => upstream.end(), delayMs));
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: '127.0.0.1',
    port,
    events,
    get connections() {
      return connections;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
