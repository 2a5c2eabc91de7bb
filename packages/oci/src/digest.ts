import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { OciError, OciErrorCode, OciExitCode, type OciExitCodeValue } from './errors.ts';

/** A sha256 digest: the only algorithm lumen writes, and the one every registry and runtime supports. */
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

/** `sha256:<hex>` of `data`. */
export function digestOf(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** True for a well-formed `sha256:<64 lowercase hex>`. */
export function isDigest(value: string): boolean {
  return DIGEST_PATTERN.test(value);
}

/** Throws OCI_DIGEST_INVALID unless `value` is a sha256 digest; returns its hex part. */
export function digestHex(value: string): string {
  if (!isDigest(value)) {
    throw new OciError(OciErrorCode.digestInvalid, `not a sha256 digest: '${value}'`, OciExitCode.usage);
  }
  return value.slice('sha256:'.length);
}

/**
 * A pass-through stream that hashes what flows through it and, at the end, fails the stream
 * with OCI_DIGEST_MISMATCH when the content does not match `expected` (and `size`, when given).
 * Used on every registry read so that nothing unverified is ever renamed into place.
 */
export class DigestCheck extends Transform {
  readonly expected: string;
  readonly size: number | undefined;
  private readonly hash: Hash = createHash('sha256');
  /** Bytes seen so far. */
  bytes = 0;
  private readonly what: string;
  private readonly exitCode: OciExitCodeValue;
  /** With `withholdLast`: the latest chunk, passed on only once the whole content is proven. */
  private held: Buffer | undefined;
  private readonly withholdLast: boolean;

  /**
   * `withholdLast`: keep the last chunk back until the digest holds, so that a reader of corrupt content never
   * receives all of it (a server streaming a blob it has not proven yet).
   */
  constructor(
    expected: string,
    options: { size?: number; what?: string; exitCode?: OciExitCodeValue; withholdLast?: boolean } = {},
  ) {
    super();
    digestHex(expected);
    this.expected = expected;
    this.size = options.size;
    this.what = options.what ?? expected;
    this.exitCode = options.exitCode ?? OciExitCode.remote;
    this.withholdLast = options.withholdLast ?? false;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const err = this.add(chunk);
    if (err) {
      done(err);
      return;
    }
    if (!this.withholdLast) {
      done(null, chunk);
      return;
    }
    const previous = this.held;
    this.held = chunk;
    done(null, previous);
  }

  override _flush(done: TransformCallback): void {
    const err = this.verdict();
    if (err) done(err);
    else done(null, this.held);
  }

  /**
   * Hashes a chunk without streaming it (a reader that consumes the content itself, as
   * `Layout.writeBlobStream` does); the error when the content is now longer than `size`.
   */
  add(chunk: Buffer): OciError | undefined {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    return this.size !== undefined && this.bytes > this.size
      ? this.mismatch(`more than the expected ${this.size} bytes`)
      : undefined;
  }

  /** At the end of the content: the error when it does not match `expected` (and `size`), else undefined. */
  verdict(): OciError | undefined {
    const actual = `sha256:${this.hash.digest('hex')}`;
    if (this.size !== undefined && this.bytes !== this.size)
      return this.mismatch(`${this.bytes} bytes, expected ${this.size}`);
    if (actual !== this.expected) return this.mismatch(`content hashes to ${actual}`);
    return undefined;
  }

  private mismatch(detail: string): OciError {
    return new OciError(OciErrorCode.digestMismatch, `digest mismatch for ${this.what}: ${detail}`, this.exitCode);
  }
}
