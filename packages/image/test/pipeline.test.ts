/**
 * The delivery pipeline's steps in order, as CI runs them (docs/image.md), through the real `lumen` bin in a
 * temporary clone of this repository, against a real Distribution registry, with a key generated here: image build
 * → push by digest → SBOM attached (cosign's `.sbom` tag) → sign → verify (lumen, and the real cosign) → release
 * bump with commit and push → deploy/ pins exactly the new digest and `lumen check` passes on it.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { globSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Registry } from '@lumen/oci';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { runLumen } from '@lumen/testkit/lumen';
import { toolPath } from '@lumen/testkit/tools';
import { parse } from 'yaml';

const root = resolve(import.meta.dirname, '..', '..', '..');
const work = join(tmpdir(), `lumen-pipeline-${randomBytes(6).toString('hex')}`);
const clone = join(work, 'clone');
const remote = join(work, 'remote.git');
const password = randomBytes(12).toString('base64url');
const run = promisify(execFile);
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

let registry: TestRegistry;

before(async () => {
  mkdirSync(work);
  registry = await startRegistry();
  execFileSync('git', ['clone', '--quiet', '--bare', root, remote]);
  execFileSync('git', ['clone', '--quiet', remote, clone]);
  // The clone builds from the repository's installed dependencies (what `npm ci` wrote).
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'));
  symlinkSync(join(root, 'apps', 'api', 'node_modules'), join(clone, 'apps', 'api', 'node_modules'));
});
after(async () => {
  await registry?.close();
  rmSync(work, { recursive: true, force: true });
});

const lumen = async (args: string[], env: Record<string, string> = {}) => {
  const r = await runLumen(args, { env: { COSIGN_PASSWORD: password, ...env } });
  assert.equal(r.code, 0, `lumen ${args.join(' ')}: ${r.stderr}`);
  return r;
};

describe('the delivery pipeline, step by step', () => {
  const inventory = join(clone, 'inventory');
  const layout = join(work, 'image');
  let digest: string;
  let reference: string;

  it('image build → push by digest → SBOM attached under its cosign tag', async () => {
    const sbomFile = join(work, 'lumen-api.cdx.json');
    const built = JSON.parse(
      (
        await lumen([
          'image',
          'build',
          '--inventory',
          inventory,
          '--context',
          clone,
          '--out',
          layout,
          '--sbom',
          sbomFile,
          '--json',
        ])
      ).stdout,
    );
    digest = built.digest;
    const outputs = join(work, 'github-output');
    const pushed = JSON.parse(
      (
        await lumen([
          'image',
          'push',
          layout,
          '--inventory',
          inventory,
          '--registry',
          registry.host,
          '--plain-http',
          '--output-file',
          outputs,
          '--json',
        ])
      ).stdout,
    );
    // As a workflow's $GITHUB_OUTPUT: later steps read the digest and the reference.
    assert.equal(
      readFileSync(outputs, 'utf8'),
      `digest=${digest}\nreference=${registry.host}/lumen/lumen-api:${built.tag}@${digest}\n`,
    );
    reference = `${registry.host}/lumen/lumen-api@${digest}`;
    assert.equal(pushed.reference, `${registry.host}/lumen/lumen-api:${built.tag}@${digest}`);
    const client = new Registry({ host: registry.host, plainHttp: true });
    assert.equal(
      (await client.headManifest('lumen/lumen-api', built.tag))?.digest,
      digest,
      'the tag serves the digest',
    );
    const sbomManifest = JSON.parse(
      (await client.getManifest('lumen/lumen-api', `sha256-${digest.slice(7)}.sbom`)).bytes.toString('utf8'),
    );
    assert.equal(sbomManifest.artifactType, 'application/vnd.cyclonedx+json');
    assert.equal(sbomManifest.subject.digest, digest);
    const sbom = JSON.parse((await client.getBlob('lumen/lumen-api', sbomManifest.layers[0].digest)).toString('utf8'));
    assert.equal(sbom.bomFormat, 'CycloneDX');
    assert.deepEqual(JSON.parse(readFileSync(sbomFile, 'utf8')), sbom, '--sbom wrote the document that was attached');
    const purls: string[] = sbom.components.flatMap((c: { purl?: string }) => (c.purl ? [c.purl] : []));
    assert.ok(
      sbom.components.some((c: { type: string; name: string }) => c.type === 'operating-system' && c.name === 'debian'),
      'the SBOM names the operating system (a scanner picks the Debian advisories by it)',
    );
    assert.ok(purls.some((p) => p.startsWith('pkg:deb/debian/libc6@') && p.includes('arch=arm64')));
    assert.ok(purls.some((p) => p.startsWith('pkg:npm/fastify@')));
    assert.ok(purls.includes('pkg:generic/node@24.21.0'));
  });

  it('sign → verify with lumen and with the real cosign', async () => {
    const keys = join(work, 'keys');
    await lumen(['keygen', '--out', keys]);
    // As CI signs: the key's PEM from a secret in the environment, never a file.
    await lumen(['sign', '--key-env', 'LUMEN_SIGNING_KEY', '--plain-http', reference], {
      LUMEN_SIGNING_KEY: readFileSync(join(keys, 'cosign.key'), 'utf8'),
    });
    await lumen(['verify', '--key', join(keys, 'cosign.pub'), '--plain-http', reference]);
    const unset = await runLumen(['sign', '--key-env', 'LUMEN_NO_SUCH_KEY', '--plain-http', reference]);
    assert.equal(unset.code, 2, unset.stderr);
    assert.match(unset.stderr, /^lumen: sign: environment variable LUMEN_NO_SUCH_KEY \(--key-env\) is not set/m);
    const both = await runLumen(['sign', '--key', 'k', '--key-env', 'K', reference]);
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /exactly one of --key KEY and --key-env VAR is required/);
    const { stdout } = await run(toolPath('cosign'), [
      'verify',
      '--key',
      join(keys, 'cosign.pub'),
      '--allow-http-registry',
      '--insecure-ignore-tlog=true',
      reference,
    ]);
    assert.equal(JSON.parse(stdout)[0].critical.image['docker-manifest-digest'], digest);
  });

  it('release bump pins exactly the new digest, commits, pushes; deploy/ passes lumen check', async () => {
    const revision = git(clone, 'rev-parse', 'HEAD');
    const deploy = join(clone, 'deploy');
    await lumen([
      'release',
      'bump',
      '--digest',
      digest,
      '--inventory',
      inventory,
      '--out',
      deploy,
      '--commit',
      '--revision',
      revision,
      '--push',
      'origin',
    ]);
    assert.equal(parse(readFileSync(join(inventory, 'lock.yaml'), 'utf8')).images['lumen-api'].digest, digest);
    const pins = new Set(
      globSync('**/*.yaml', { cwd: deploy }).flatMap((f) =>
        [...readFileSync(join(deploy, f), 'utf8').matchAll(/lumen\/lumen-api(?::[^@\s]+)?@(sha256:[0-9a-f]{64})/g)].map(
          (m) => m[1],
        ),
      ),
    );
    assert.deepEqual([...pins], [digest], 'every lumen-api reference in deploy/ is the new digest');
    assert.match(
      git(clone, 'log', '-1', '--format=%B'),
      new RegExp(`^release: lumen-api \\S+@${digest}\\n\\nBuilt from ${revision}`),
    );
    assert.equal(git(remote, 'rev-parse', 'HEAD'), git(clone, 'rev-parse', 'HEAD'), 'the commit reached the remote');
    assert.equal(git(clone, 'status', '--porcelain'), '', 'nothing left uncommitted');
    const check = await runLumen(['check', '--inventory', inventory, '--deploy', deploy]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });
});
