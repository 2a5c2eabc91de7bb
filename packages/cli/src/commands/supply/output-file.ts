/** The files the supply commands write (keys, registries.yaml): atomically, never replacing one unasked. */
import { stat } from 'node:fs/promises';
import { writeFileAtomic } from '@lumen/oci';
import { SupplyError, SupplyErrorCode } from '@lumen/supply';

/** Writes `text` to `path` atomically with `mode`; refuses to replace an existing file unless `force`. */
export async function writeOutputFile(path: string, text: string, mode: number, force: boolean): Promise<void> {
  if (
    !force &&
    (await stat(path).then(
      () => true,
      () => false,
    ))
  ) {
    throw new SupplyError(SupplyErrorCode.exists, `${path} exists (use --force to replace it)`);
  }
  try {
    await writeFileAtomic(path, text, { mode });
  } catch (err) {
    throw new SupplyError(SupplyErrorCode.io, `cannot write ${path}: ${(err as Error).message}`);
  }
}
