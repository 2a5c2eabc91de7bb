/** Ids in paths and `after` cursors: PostgreSQL bigint identities, passed to SQL as decimal strings. */
import { ApiError } from './errors.ts';
import { MAX_ID } from './schemas.ts';

/**
 * Returns `raw` when it fits a bigint. The schemas already guarantee 1–19 digits without sign or leading zero;
 * this rejects the 19-digit values beyond 9223372036854775807, which PostgreSQL would refuse with a 500.
 * @throws {ApiError} `invalid_id` for the path id, `validation_failed` for other fields (e.g. `after`).
 */
export function checkedId(raw: string, field: string): string {
  if (BigInt(raw) > MAX_ID) {
    throw new ApiError(field === 'id' ? 'invalid_id' : 'validation_failed', `${field} must be at most ${MAX_ID}`);
  }
  return raw;
}
