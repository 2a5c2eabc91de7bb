/** The one way a proof names a broken rule on an object. */
import { objectId } from './manifests.ts';
import type { SourcedObject, Violation } from './types.ts';

/** A violation of `rule` on the object `src`, with where it came from. */
export function violationOf(src: SourcedObject, rule: Violation['rule'], reason: string): Violation {
  return { file: src.file, ...objectId(src.obj), rule, reason };
}
