/**
 * The supply-chain commands of lumen, a thin layer over @lumen/supply: flags in, the library's
 * functions called, one line or a JSON document out. main.ts loads this table only when one of
 * its command words is run.
 */
import type { CommandTable } from '../../types.ts';
import { bundleCreate, bundleLs, bundlePush, bundleVerify } from './bundle.ts';
import { inventoryLock } from './inventory.ts';
import { mirrorConfig } from './mirror-config.ts';
import { serve } from './serve.ts';
import { keygen, sign, verify } from './signatures.ts';

export const commands: CommandTable = {
  'inventory lock': inventoryLock,
  'bundle create': bundleCreate,
  'bundle verify': bundleVerify,
  'bundle push': bundlePush,
  'bundle ls': bundleLs,
  keygen,
  sign,
  verify,
  'mirror-config': mirrorConfig,
  serve,
};
