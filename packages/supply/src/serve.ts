import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { type BlobSource, DigestCheck, isDigest, OciError, OciErrorCode, parseManifest } from '@lumen/oci';
import { readBundle } from './bundle.ts';

export interface ServeOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** One line per request (method, path, status). */
  log?: (line: string) => void;
}

export interface ServedBundle {
  server: Server;
  /** `host:port` to pull from. */
  address: string;
  repositories: string[];
  close(): Promise<void>;
}

interface Repository {
  /** tag → manifest digest */
  tags: Map<string, string>;
}

const NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

function error(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ errors: [{ code, message }] });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Serves the bundle at `dir` until closed. */
export async function serveBundle(dir: string, options: ServeOptions = {}): Promise<ServedBundle> {
  const { layout, manifest } = await readBundle(dir);
  const repositories = new Map<string, Repository>();
  const repo = (name: string) => {
    let r = repositories.get(name);
    if (!r) {
      r = { tags: new Map() };
      repositories.set(name, r);
    }
    return r;
  };
  for (const img of manifest.images) {
    repo(img.repository).tags.set(img.tag, img.digest);
    if (img.signature) repo(img.repository).tags.set(img.signature.tag, img.signature.digest);
  }
  for (const chart of manifest.charts) repo(chart.repository).tags.set(chart.tag, chart.digest);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('docker-distribution-api-version', 'registry/2.0');
    const url = new URL(req.url ?? '/', 'http://bundle');
    const path = url.pathname;
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      return error(res, 405, 'UNSUPPORTED', `lumen serve is read-only: ${req.method} is not served`);
    }
    if (path === '/v2/' || path === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
      return res.end(head ? undefined : '{}');
    }
    if (path === '/v2/_catalog') {
      const body = JSON.stringify({ repositories: [...repositories.keys()].sort() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      return res.end(head ? undefined : body);
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs|tags)\/(.+)$/.exec(path);
    if (!m) return error(res, 404, 'NOT_FOUND', `${path} is not an OCI distribution endpoint`);
    const [, name, kind, ref] = m as unknown as [string, string, string, string];
    if (!NAME.test(name)) return error(res, 400, 'NAME_INVALID', `invalid repository name ${name}`);
    const r = repositories.get(name);
    if (!r) return error(res, 404, 'NAME_UNKNOWN', `repository ${name} is not in the bundle`);
    if (kind === 'tags') {
      if (ref !== 'list') return error(res, 404, 'NOT_FOUND', `${path} is not an OCI distribution endpoint`);
      const body = JSON.stringify({ name, tags: [...r.tags.keys()].sort() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      return res.end(head ? undefined : body);
    }
    if (kind === 'manifests') {
      const digest = isDigest(ref) ? ref : r.tags.get(ref);
      if (!digest || (await layout.blobSize(digest)) === undefined || !manifestOf(manifest.blobs, digest)) {
        return error(res, 404, 'MANIFEST_UNKNOWN', `manifest ${name}:${ref} is not in the bundle`);
      }
      const bytes = await layout.readBlob(digest);
      const { mediaType } = parseManifest(bytes);
      res.writeHead(200, {
        'content-type': mediaType,
        'content-length': bytes.length,
        'docker-content-digest': digest,
      });
      return res.end(head ? undefined : bytes);
    }
    if (!isDigest(ref)) return error(res, 400, 'DIGEST_INVALID', `${ref} is not a digest`);
    const size = manifest.blobs[ref] === undefined ? undefined : await layout.blobSize(ref);
    if (size === undefined) return error(res, 404, 'BLOB_UNKNOWN', `blob ${ref} is not in the bundle`);
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': size,
      'docker-content-digest': ref,
    });
    if (head) return res.end();
    await streamBlob(layout, ref, res, options.log);
  };

  const server = createServer((req, res) => {
    handle(req, res)
      .catch((err: unknown) => {
        if (!res.headersSent) error(res, 500, 'UNKNOWN', (err as Error).message);
        else res.destroy();
      })
      .finally(() => options.log?.(`${req.method} ${req.url} ${res.statusCode}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 5000, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    address: `${host}:${address.port}`,
    repositories: [...repositories.keys()].sort(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A manifest is served only when the bundle lists it among its blobs (every blob it carries is listed). */
function manifestOf(blobs: Record<string, number>, digest: string): boolean {
  return blobs[digest] !== undefined;
}

/** Streams a blob through a digest check that withholds its last chunk: a corrupt blob ends the connection before it. */
async function streamBlob(layout: BlobSource, digest: string, res: ServerResponse, log?: (line: string) => void) {
  try {
    await pipeline(layout.openBlob(digest), new DigestCheck(digest, { withholdLast: true }), res);
  } catch (err) {
    const corrupt = err instanceof OciError && err.code === OciErrorCode.digestMismatch;
    log?.(`${corrupt ? `blob ${digest} in the bundle is corrupt` : (err as Error).message}: connection cut`);
    res.destroy();
  }
}
