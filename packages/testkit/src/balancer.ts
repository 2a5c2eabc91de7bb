/**
 * A small round-robin TCP load balancer on a free loopback port, in front of HTTP backends, the way a Service
 * with readiness-probed endpoints behaves: each backend's `readinessPath` is probed every `probeIntervalMs`, a
 * new client connection goes to the next backend in rotation (ready at its last probe), and a connection that a
 * backend refuses is tried on the next one (nothing was sent yet). A connection is pinned to its backend for its
 * life, as kube-proxy pins it: when the backend closes or dies, the client's connection closes with it.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface Backend {
  readonly host: string;
  readonly port: number;
}

export interface Balancer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  /** Adds a backend; it takes connections once a probe found it ready. */
  add(backend: Backend): void;
  /** Removes a backend from rotation (its open connections stay until they close). */
  remove(backend: Backend): void;
  /** Resolves once `backend` is in rotation. */
  inRotation(backend: Backend, timeoutMs?: number): Promise<void>;
  /** Connections accepted per backend `port`. */
  readonly accepted: ReadonlyMap<number, number>;
  close(): Promise<void>;
}

export interface BalancerOptions {
  readinessPath?: string;
  probeIntervalMs?: number;
}

interface Member {
  backend: Backend;
  ready: boolean;
}

export async function startBalancer(backends: Backend[], options: BalancerOptions = {}): Promise<Balancer> {
  const readinessPath = options.readinessPath ?? '/readyz';
  const probeIntervalMs = options.probeIntervalMs ?? 100;
  const members: Member[] = [];
  const accepted = new Map<number, number>();
  const sockets = new Set<Socket>();
  let next = 0;
  let closed = false;

  const probe = async (member: Member) => {
    try {
      const response = await fetch(`http://${member.backend.host}:${member.backend.port}${readinessPath}`, {
        signal: AbortSignal.timeout(Math.max(probeIntervalMs * 5, 500)),
      });
      await response.arrayBuffer();
      member.ready = response.status === 200;
    } catch {
      member.ready = false;
    }
  };
  const timer = setInterval(() => {
    for (const member of members) void probe(member);
  }, probeIntervalMs);

  /** The backends to try for a new connection: those in rotation, starting with the next in turn. */
  const candidates = (): Member[] => {
    const ready = members.filter((m) => m.ready);
    if (ready.length === 0) return [];
    const start = next++ % ready.length;
    return [...ready.slice(start), ...ready.slice(0, start)];
  };

  const server = createServer({ pauseOnConnect: true }, (client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const tryNext = (queue: Member[]) => {
      const member = queue.shift();
      if (member === undefined) {
        client.destroy();
        return;
      }
      const upstream = connect(member.backend.port, member.backend.host);
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        accepted.set(member.backend.port, (accepted.get(member.backend.port) ?? 0) + 1);
        sockets.add(upstream);
        upstream.on('close', () => sockets.delete(upstream));
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        client.on('close', () => upstream.destroy());
        // However the backend's connection ends (closed, reset, killed), what it sent reaches the client, then the
        // client's connection is ended. What the client still uploads is read and dropped meanwhile (a lingering
        // close, as nginx and Traefik do): a backend that answers 413 before reading a large body and closes must
        // not turn into a reset that loses its answer.
        upstream.on('close', () => {
          client.unpipe(upstream);
          client.resume();
          client.end();
          setTimeout(() => client.destroy(), 5000).unref();
        });
      });
      upstream.on('error', () => {
        if (!connected) {
          member.ready = false;
          tryNext(queue);
        }
      });
    };
    tryNext(candidates());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const same = (a: Backend, b: Backend) => a.host === b.host && a.port === b.port;

  const balancer: Balancer = {
    host: '127.0.0.1',
    port,
    url: `http://127.0.0.1:${port}`,
    accepted,
    add(backend) {
      members.push({ backend, ready: false });
    },
    remove(backend) {
      const i = members.findIndex((m) => same(m.backend, backend));
      if (i >= 0) members.splice(i, 1);
    },
    async inRotation(backend, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (members.some((m) => same(m.backend, backend) && m.ready)) return;
        if (closed || Date.now() > deadline)
          throw new Error(`backend ${backend.host}:${backend.port} not ready after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, probeIntervalMs / 2));
      }
    },
    async close() {
      closed = true;
      clearInterval(timer);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  for (const backend of backends) balancer.add(backend);
  return balancer;
}
