/**
 * A TCP proxy on a free loopback port that delays every byte going to the target by `delayMs` (one
 * direction, settable while it runs: a drill injects latency and takes it away again, as Chaos Mesh's NetworkChaos `direction: to` injects latency) and forwards the answers
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
  /** The delay of client → target bytes, ms; a new value applies to the bytes that arrive from then on. */
  delayMs: number;
  /** Client connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startDelayProxy(target: { host: string; port: number }, delay = 0): Promise<DelayProxy> {
  let delayMs = delay;
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
    // One FIFO per connection drained by one timer: TCP never reorders, and separate timers would once the delay
    // changes (timers of different durations due at the same moment fire in no set order — a drill saw a Redis
    // reply reach the wrong command that way).
    const queue: { due: number; bytes: Buffer | null }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const drain = () => {
      timer = undefined;
      const now = performance.now();
      while (queue.length > 0 && (queue[0]?.due ?? 0) <= now) {
        const { bytes } = queue.shift() as { bytes: Buffer | null };
        if (bytes === null) upstream.end();
        else if (upstream.writable) upstream.write(bytes);
      }
      if (queue.length > 0) timer = setTimeout(drain, (queue[0]?.due ?? now) - now);
    };
    const send = (bytes: Buffer | null) => {
      if (delayMs === 0 && queue.length === 0) {
        if (bytes === null) upstream.end();
        else if (upstream.writable) upstream.write(bytes);
        return;
      }
      const now = performance.now();
      queue.push({ due: Math.max(now + delayMs, queue.at(-1)?.due ?? 0), bytes });
      if (timer === undefined) timer = setTimeout(drain, Math.max(0, (queue[0]?.due ?? now) - now));
    };
    client.on('data', (bytes: Buffer) => {
      events.push({ direction: 'up', bytes });
      send(bytes);
    });
    upstream.on('data', (bytes: Buffer) => {
      events.push({ direction: 'down', bytes });
      if (client.writable) client.write(bytes);
    });
    client.on('end', () => send(null));
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: '127.0.0.1',
    port,
    events,
    get delayMs() {
      return delayMs;
    },
    set delayMs(value: number) {
      delayMs = value;
    },
    get connections() {
      return connections;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
