/** The `lumen` process: bin/lumen.js and the single executable (scripts/build-cli.ts) start here. */
import { runProcess } from './main.ts';

void runProcess(process.argv.slice(2));
