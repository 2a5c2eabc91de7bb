// The image-reference grammar and its patterns live in @lumen/oci (parseReferenceParts); the
// inventory's parseReference is in resolve.ts. This module is left only while write.ts imports
// the patterns from it.
export { DIGEST_PATTERN, TAG_PATTERN } from '@lumen/oci';
