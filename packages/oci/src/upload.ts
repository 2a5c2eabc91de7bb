/**
 * Blob uploads over the distribution API: sessions, chunked resumable uploads and
 * cross-repository mounts.
 */
import { Readable } from 'node:stream';
import { OciError, OciErrorCode, OciExitCode } from './errors.ts';
import { isTransient, retry } from './retry.ts';
import { type CallInit, drain, type RegistryTransport } from './transport.ts';

/** What an upload did, for resume accounting and progress. */
export interface UploadResult {
  /** Bytes sent in request bodies, including bytes re-sent after an interruption. */
  bytesSent: number;
  /** How many times the upload resumed (from the registry's Range) or restarted. */
  resumes: number;
}

/** Options of {@link uploadBlob}. */
export interface UploadOptions {
  /** Bytes per PATCH; a blob of at most one chunk goes in one PUT. */
  chunkSize: number;
  /** Called with the bytes sent, and with negative counts for bytes that must be sent again. */
  onProgress?: ((bytes: number) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** Starts an upload session; returns its location. */
export async function startUpload(t: RegistryTransport, repo: string, signal?: AbortSignal): Promise<string> {
  const res = await t.request(`/v2/${repo}/blobs/uploads/`, repo, { method: 'POST', push: true, signal });
  await drain(res);
  const location = res.headers.get('location');
  if (res.status !== 202 || !location) throw t.error(res, `start upload to ${repo}`);
  return location;
}

/**
 * Where an upload session stands (`GET <location>` → 204 with `Range: 0-<last>`): the next
 * offset and the new location, or undefined when the registry no longer accepts the session
 * (Distribution refuses a session whose stored size differs from the offset signed into its
 * location, which is what a connection cut in mid-chunk leaves behind).
 */
export async function uploadStatus(
  t: RegistryTransport,
  repo: string,
  location: string,
  signal?: AbortSignal,
): Promise<{ offset: number; location: string } | undefined> {
  const res = await t.request(location, repo, { method: 'GET', push: true, signal });
  await drain(res);
  if (res.status !== 204 && res.status !== 200) return undefined;
  const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get('range') ?? '');
  const last = range?.[1] !== undefined ? Number(range[1]) : -1;
  // Distribution reports "0-0" for an empty session: treat it as empty (re-sending 1 byte of a
  // fresh session is the only cost of the ambiguity, and chunk boundaries are never 1 byte).
  const offset = last <= 0 ? 0 : last + 1;
  return { offset, location: res.headers.get('location') ?? location };
}

/**
 * Asks the registry to link a blob from another repository of the same registry
 * (`POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<other>`). True when mounted (201);
 * false when the registry started an ordinary upload instead (202), which is cancelled.
 */
export async function mountBlob(
  t: RegistryTransport,
  repo: string,
  digest: string,
  from: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const res = await t.request(
    `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
    repo,
    { method: 'POST', push: true, mountFrom: from, signal },
  );
  await drain(res);
  if (res.status === 201) return true;
  if (res.status === 202) {
    const location = res.headers.get('location');
    if (location) {
      const cancel = await t.request(location, repo, { method: 'DELETE', push: true, signal }).catch(() => undefined);
      if (cancel) await drain(cancel);
    }
    return false;
  }
  throw t.error(res, `mount ${digest} from ${from} into ${repo}`);
}

/**
 * Uploads a blob in chunks: POST, then PATCH chunks with `Content-Range`, then
 * `PUT ?digest=`. After a connection error or 5xx in mid-chunk it asks the registry where
 * the session stands and continues from there (or starts a fresh session for this blob when
 * the registry refuses the old one); a blob is never re-sent once complete. Each chunk has the
 * transport's whole retry budget, so a long upload over a flaky link goes on while chunks get through.
 *
 * @param open returns the blob's bytes from `start` to `end` inclusive (a file read stream).
 */
export async function uploadBlob(
  t: RegistryTransport,
  repo: string,
  digest: string,
  size: number,
  open: (start: number, end: number) => Readable,
  options: UploadOptions,
): Promise<UploadResult> {
  const { signal, onProgress, chunkSize } = options;
  let location = await startUpload(t, repo, signal);
  if (size <= chunkSize) {
    // One chunk: send it with the closing PUT (POST, then PUT ?digest= with the body), one
    // request less per blob. A failure restarts the blob, which is at most one chunk.
    const whole = async (): Promise<UploadResult> => {
      let sent = 0;
      const stream = size > 0 ? open(0, size - 1) : Readable.from([]);
      await finishUpload(t, repo, location, digest, `upload of ${digest}`, {
        headers: { 'content-length': String(size) },
        body: () =>
          counted(stream, (n) => {
            sent += n;
            onProgress?.(n);
          }),
        retry: false,
        signal,
      });
      return { bytesSent: sent, resumes: 0 };
    };
    const done = await whole().catch((err: unknown) => {
      if (signal?.aborted || !isTransient(err)) throw err;
      onProgress?.(-size);
      return undefined;
    });
    if (done) return done;
    location = await startUpload(t, repo, signal);
  }
  let offset = 0;
  const result: UploadResult = { bytesSent: 0, resumes: size <= chunkSize ? 1 : 0 };
  const sendChunk = async (): Promise<void> => {
    const end = Math.min(offset + chunkSize, size) - 1;
    let sent = 0;
    try {
      const stream = open(offset, end);
      // Count bytes as undici pulls them, so progress and resume accounting see partial chunks.
      const res = await t.request(location, repo, {
        method: 'PATCH',
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${end}`,
          'content-length': String(end - offset + 1),
        },
        body: () =>
          counted(stream, (n) => {
            sent += n;
            onProgress?.(n);
          }),
        push: true,
        retry: false,
        signal,
      });
      await drain(res);
      if (res.status !== 202) throw t.error(res, `PATCH upload of ${digest}`);
      result.bytesSent += sent;
      location = res.headers.get('location') ?? location;
      offset = end + 1;
    } catch (err) {
      result.bytesSent += sent;
      onProgress?.(-sent);
      throw err;
    }
  };
  const resume = async (): Promise<void> => {
    result.resumes++;
    const status = await uploadStatus(t, repo, location, signal).catch(() => undefined);
    if (status) {
      location = status.location;
      onProgress?.(status.offset - offset);
      offset = status.offset;
    } else {
      onProgress?.(-offset);
      location = await startUpload(t, repo, signal);
      offset = 0;
    }
  };
  while (offset < size) {
    await retry(sendChunk, { retries: t.retries, baseMs: t.retryBaseMs, signal, beforeRetry: resume });
  }
  await finishUpload(t, repo, location, digest, `finish upload of ${digest}`, {
    headers: { 'content-length': '0' },
    signal,
  });
  return result;
}

/** Closes an upload session: `PUT <location>?digest=`, with the last bytes or none. */
async function finishUpload(
  t: RegistryTransport,
  repo: string,
  location: string,
  digest: string,
  what: string,
  init: Pick<CallInit, 'headers' | 'body' | 'retry' | 'signal'>,
): Promise<void> {
  const url = new URL(location, t.base);
  url.searchParams.set('digest', digest);
  const res = await t.request(url.toString(), repo, {
    ...init,
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', ...init.headers },
    push: true,
  });
  const text = await res.text().catch(() => '');
  if (res.status === 400 && /"DIGEST_INVALID"/.test(text)) {
    // The registry hashed what was sent and it is not `digest`: the content is wrong, not the registry.
    throw new OciError(
      OciErrorCode.digestMismatch,
      `${t.host}: ${what}: the content sent does not hash to ${digest} (the registry refused it: DIGEST_INVALID)`,
      OciExitCode.failed,
      { status: res.status },
    );
  }
  if (res.status !== 201) throw t.error(res, what, text);
}

/** `stream`'s chunks, reporting each one's size as undici pulls it. */
async function* counted(stream: Readable, onBytes: (bytes: number) => void): AsyncGenerator<Buffer> {
  for await (const c of stream) {
    onBytes((c as Buffer).length);
    yield c as Buffer;
  }
}
