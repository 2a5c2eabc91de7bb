/**
 * A loopback HTTP reverse proxy in front of a real registry: records every request (method,
 * path, body bytes) and can cut the connection in the middle of an upload, once, after a
 * number of PATCH body bytes, as a flaky network or a killed laptop lid would.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  bytes: number;
  status?: number;
}

export interface RecordingProxy {
  host: string;
  requests: Recorded[];
  /** Cut the next PATCH after `bytes` body bytes (once). */
  cutPatchAfter(bytes: number): void;
  /** Cut the next blob upload's closing PUT (one carrying the whole blob) after `bytes` body bytes (once). */
  cutPutAfter(bytes: number): void;
  /** Drop the `n`-th PATCH from now before it reaches the registry (once): a cut between chunks. */
  dropPatch(n: number): void;
  /** Cut the response of the next blob GET after `bytes` body bytes (once): a download lost mid-blob. */
  cutBlobGetAfter(bytes: number): void;
  /** Digest of the blob whose download was cut. */
  cutBlob?: string;
  cuts: number;
  close(): Promise<void>;
}

export async function startProxy(target: { host: string; port: number }): Promise<RecordingProxy> {
  const requests: Recorded[] = [];
  let cutAt: number | undefined;
  let cutMethod = 'PATCH';
  let dropIn: number | undefined;
  let getCutAt: number | undefined;
  const sockets = new Set<Socket>();
  const proxy: RecordingProxy = {
    host: '',
    requests,
    cuts: 0,
    cutPatchAfter(bytes) {
      cutAt = bytes;
      cutMethod = 'PATCH';
    },
    cutPutAfter(bytes) {
      cutAt = bytes;
      cutMethod = 'PUT';
    },
    dropPatch(n) {
      dropIn = n;
    },
    cutBlobGetAfter(bytes) {
      getCutAt = bytes;
    },
    close: () =>
      new Promise((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
  const server: Server = createServer((req, res) => {
    const rec: Recorded = { method: req.method ?? '', path: req.url ?? '', bytes: 0 };
    requests.push(rec);
    if (req.method === 'PATCH' && dropIn !== undefined && --dropIn === 0) {
      dropIn = undefined;
      proxy.cuts++;
      req.socket.destroy();
      return;
    }
    const upstream = httpRequest(
      { host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        rec.status = up.statusCode;
        res.writeHead(up.statusCode ?? 502, up.headers);
        const cut =
          req.method === 'GET' && req.url?.includes('/blobs/sha256:') && up.statusCode === 200 ? getCutAt : undefined;
        if (cut === undefined) {
          up.pipe(res);
          return;
        }
        let sent = 0;
        up.on('data', (chunk: Buffer) => {
          // Armed until a body actually reaches `cut` bytes (small blobs pass untouched).
          if (getCutAt !== undefined && sent + chunk.length >= cut) {
            getCutAt = undefined;
            res.write(chunk.subarray(0, cut - sent));
            proxy.cuts++;
            proxy.cutBlob = req.url?.split('/blobs/')[1];
            up.destroy();
            res.socket?.destroy();
            return;
          }
          sent += chunk.length;
          res.write(chunk);
        });
        up.on('end', () => res.end());
      },
    );
    upstream.on('error', () => res.destroy());
    req.on('data', (chunk: Buffer) => {
      // The cut applies to the first PATCH (or PUT) whose body reaches `cutAt` bytes, then disarms.
      if (req.method === cutMethod && cutAt !== undefined && rec.bytes + chunk.length >= cutAt) {
        const part = chunk.subarray(0, Math.max(0, cutAt - rec.bytes));
        cutAt = undefined;
        rec.bytes += part.length;
        upstream.write(part);
        proxy.cuts++;
        // Drop both sides abruptly: the client sees a reset, the registry a truncated body.
        upstream.destroy();
        req.socket.destroy();
        return;
      }
      rec.bytes += chunk.length;
      upstream.write(chunk);
    });
    req.on('end', () => upstream.end());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
