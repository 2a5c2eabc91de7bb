/**
 * Time per checked object of `lumen check` on the rendered platform (deploy/), against a
 * baseline measured in the same run: plain YAML parsing of the same files. Goal (issue 6):
 * ≤ 5 ms per object for the offline stage. Each proof is also timed alone, so a regression points
 * at its rule. The server stage (every object applied in dry run on a real kube-apiserver) is
 * timed per object on its own, and its start-up (etcd + kube-apiserver to /readyz) apart.
 *
 * It lives with the platform (its inputs are the platform's) and measures @lumen/check: run it
 * from the repository root with `npm run bench -- packages/check` (benchmarks named after a
 * package run with it) or `npm run bench -- platform`.
 */
import { resolve } from 'node:path';
import {
  ApiClient,
  buildCluster,
  checkAdmission,
  checkImages,
  checkNetwork,
  checkPodSecurity,
  checkSchema,
  checkSecrets,
  checkSelectors,
  checkSyncWaves,
  findEngine,
  loadManifests,
  prepareSchemas,
  proveAll,
  proveOnServer,
} from '@lumen/check';
import { startKubeApiserver } from '@lumen/testkit/kube-apiserver';
import { checkInputs } from '../src/proof/inputs.ts';

const root = resolve(import.meta.dirname, '../..');
const deploy = resolve(root, 'deploy');
const rounds = 20;

async function time(fn: () => unknown | Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < rounds; i++) await fn();
  return (performance.now() - start) / rounds;
}

const inputs = await checkInputs();
const objects = loadManifests([deploy], true, root);
const n = objects.length;
// Warm-up: loads the schema validators and the field catalogue once, as any real run pays once.
const cold = performance.now();
await proveAll(objects, inputs);
const coldMs = performance.now() - cold;

const parse = await time(() => loadManifests([deploy], true, root));
const full = await time(async () => proveAll(loadManifests([deploy], true, root), inputs));
await prepareSchemas(objects);
const cluster = buildCluster(objects, inputs.facts);
const parts: Array<[string, () => unknown]> = [
  ['schema', () => checkSchema(objects)],
  ['admission (gator)', () => checkAdmission(cluster)],
  ['pod-security', () => checkPodSecurity(cluster)],
  ['network', () => checkNetwork(cluster, inputs.matrix, inputs.matrixFile)],
  ['selector + sync-wave', () => [checkSelectors(cluster), checkSyncWaves(cluster)]],
  ['secrets + images', () => [checkSecrets(cluster), checkImages(cluster, inputs.inventory)]],
];

const row = (name: string, ms: number) =>
  `${name.padEnd(28)} ${ms.toFixed(2).padStart(9)} ms ${(ms / n).toFixed(3).padStart(8)} ms/object ${(ms / parse).toFixed(1).padStart(7)}× parse`;
console.log(
  `lumen check on deploy/: ${n} objects, ${rounds} rounds (first run, with validator loading: ${coldMs.toFixed(0)} ms)`,
);
console.log(row('baseline: YAML parse', parse));
console.log(row('lumen check (parse + proofs)', full));
for (const [name, fn] of parts) console.log(row(`  ${name}`, await time(fn)));
const perObject = full / n;
console.log(`per object: ${perObject.toFixed(3)} ms (goal ≤ 5 ms): ${perObject <= 5 ? 'met' : 'NOT met'}`);

// The server stage: start-up once, then every object in dry run (the first round also creates the
// namespaces and CRDs; later rounds find them and only apply).
const serverRounds = 3;
const server = await startKubeApiserver({ apiserverBin: findEngine('kube-apiserver'), etcdBin: findEngine('etcd') });
try {
  const api = new ApiClient(server.kubeconfig);
  const first = await proveOnServer(api, objects, objects, inputs.facts.components);
  let applyMs = 0;
  for (let i = 0; i < serverRounds; i++)
    applyMs += (await proveOnServer(api, objects, objects, inputs.facts.components)).applyMs;
  applyMs /= serverRounds;
  console.log(
    `server stage: ${first.server}, started in ${server.startupMs.toFixed(0)} ms (etcd + kube-apiserver to /readyz)`,
  );
  console.log(`  first round (creates namespaces and CRDs): ${first.applyMs.toFixed(0)} ms`);
  console.log(
    row(`  server stage (${first.judged.size} judged)`, applyMs).replace(
      'ms/object',
      `ms/object (${(applyMs / first.judged.size).toFixed(2)} ms per judged object)`,
    ),
  );
  api.close();
} finally {
  await server.close();
}
