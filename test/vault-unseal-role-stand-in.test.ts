/**
 * The vault role and unseal.yml, run by the real ansible-playbook (the tool cache's virtual environment) against a
 * stand-in of Vault's sys endpoints on loopback — Vault itself cannot run here. The stand-in behaves as Vault
 * documents /v1/sys/init, /v1/sys/seal-status and /v1/sys/unseal: it initializes once (a second init is refused),
 * hands out `secret_shares` keys, and stays sealed until `secret_threshold` distinct issued keys arrived. Two
 * stand-in servers share one initialization, as Raft peers do, and each holds its own seal.
 *
 * Proven: the keys file on the controller is an ansible-vault file (`$ANSIBLE_VAULT;1.1;AES256`) that the real
 * `ansible-vault view` decrypts, with the generated password, to exactly the keys and root token Vault issued;
 * every server ends unsealed; a second run changes nothing and never re-initializes; after a restart (sealed
 * again) unseal.yml unseals them with the stored keys, and a second unseal changes nothing; no key and no token
 * ever appears in ansible's verbose output. A copy of the role without `no_log` leaks them, so that check can fail.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ansibleBin, playRecap, runAnsible } from '@lumen/testkit/ansible';

const ansibleDir = resolve(import.meta.dirname, '..', 'infra', 'ansible');
const venvBin = ansibleBin();

/** The shared state of one Vault cluster (what Raft replicates): initialization and the issued key shares. */
class StandInCluster {
  initialized = false;
  shares: Buffer[] = [];
  threshold = 0;
  rootToken = '';
  inits = 0;
}

/** One Vault server of the cluster: its own seal and unseal progress, behind Vault's sys HTTP endpoints. */
class StandInServer {
  sealed = true;
  private progress: Buffer[] = [];
  private readonly server: Server;
  private readonly cluster: StandInCluster;
  url = '';

  constructor(cluster: StandInCluster) {
    this.cluster = cluster;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => this.reply(res, 500, { errors: [String(err)] }));
    });
  }

  start(): Promise<void> {
    return new Promise((done) =>
      this.server.listen(0, '127.0.0.1', () => {
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        done();
      }),
    );
  }

  stop(): Promise<void> {
    return new Promise((done) => this.server.close(() => done()));
  }

  /** A restart: Vault comes back sealed. */
  restart(): void {
    this.sealed = true;
    this.progress = [];
  }

  private status() {
    const c = this.cluster;
    return {
      type: 'shamir',
      initialized: c.initialized,
      sealed: this.sealed,
      t: c.threshold,
      n: c.shares.length,
      progress: this.progress.length,
      nonce: '',
      version: '1.20.0',
      migration: false,
      recovery_seal: false,
      storage_type: 'raft',
    };
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async body(req: IncomingMessage): Promise<Record<string, unknown>> {
    let text = '';
    for await (const chunk of req) text += chunk;
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const c = this.cluster;
    const write = req.method === 'PUT' || req.method === 'POST';
    if (req.url === '/v1/sys/init' && req.method === 'GET') return this.reply(res, 200, { initialized: c.initialized });
    if (req.url === '/v1/sys/init' && write) {
      const body = await this.body(req);
      if (c.initialized) return this.reply(res, 400, { errors: ['Vault is already initialized'] });
      const n = Number(body.secret_shares);
      const t = Number(body.secret_threshold);
      if (!(n >= 1 && t >= 1 && t <= n)) return this.reply(res, 400, { errors: ['invalid seal configuration'] });
      if (n > 1 && t < 2)
        return this.reply(res, 400, { errors: ['threshold must be greater than one for multiple shares'] });
      c.initialized = true;
      c.inits++;
      c.threshold = t;
      c.shares = Array.from({ length: n }, () => randomBytes(33));
      c.rootToken = `hvs.${randomBytes(18).toString('base64url')}`;
      return this.reply(res, 200, {
        keys: c.shares.map((s) => s.toString('hex')),
        keys_base64: c.shares.map((s) => s.toString('base64')),
        root_token: c.rootToken,
      });
    }
    if (req.url === '/v1/sys/seal-status' && req.method === 'GET') return this.reply(res, 200, this.status());
    if (req.url === '/v1/sys/unseal' && write) {
      const body = await this.body(req);
      if (!c.initialized) return this.reply(res, 400, { errors: ['Vault is not initialized'] });
      if (body.reset === true) {
        this.progress = [];
        return this.reply(res, 200, this.status());
      }
      if (!this.sealed) return this.reply(res, 200, this.status());
      const text = String(body.key ?? '');
      // Vault takes a share in hex or in base64.
      const key = /^[0-9a-f]+$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
      if (key.length === 0)
        return this.reply(res, 400, {
          errors: ["'key' must be specified in request body as JSON, or 'reset' set to true"],
        });
      // A share already given in this round is ignored, as Vault does.
      if (!this.progress.some((p) => p.equals(key))) this.progress.push(key);
      if (this.progress.length >= c.threshold) {
        const valid = this.progress.every((p) => c.shares.some((s) => s.equals(p)));
        this.progress = [];
        if (!valid) return this.reply(res, 400, { errors: ['cipher: message authentication failed'] });
        this.sealed = false;
      }
      return this.reply(res, 200, this.status());
    }
    this.reply(res, 404, { errors: [] });
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'lumen-vault-role-'));
const passwordFile = join(scratch, 'vault-password');
const keysFile = join(scratch, 'operator', 'vault-init.vault.yml');
const hostsFile = join(scratch, 'hosts.ini');
writeFileSync(passwordFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
// unseal.yml runs on the server group (groups nodes, server, agent, registry: the Terraform inventory's); here the one "server" is the controller itself.
// The venv's own Python runs the modules (interpreter discovery could pick another Python of the machine).
writeFileSync(
  hostsFile,
  '[server]\nlocalhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n',
);
/** A playbook applying the vault role (the chart install and the port-forward need a cluster: off). */
const rolePlaybook = join(scratch, 'vault-role.yml');
writeFileSync(
  rolePlaybook,
  '---\n- name: The vault role\n  hosts: server\n  gather_facts: false\n  roles:\n    - role: vault\n',
);

interface Run {
  code: number;
  out: string;
}

function ansible(tool: string, args: string[], rolesDir = join(ansibleDir, 'roles')): Promise<Run> {
  return runAnsible(tool, args, {
    cwd: ansibleDir,
    env: {
      ANSIBLE_ROLES_PATH: rolesDir,
      ANSIBLE_LOCAL_TEMP: join(scratch, 'ansible-tmp'),
      ANSIBLE_HOME: join(scratch, 'ansible-home'),
    },
  });
}

function playbook(file: string, servers: StandInServer[], extra: string[] = [], rolesDir?: string): Promise<Run> {
  const vars = {
    vault_addrs: servers.map((s) => s.url),
    vault_install: false,
    vault_port_forward: false,
    vault_keys_file: keysFile,
    vault_password_file: passwordFile,
    vault_ansible_vault: join(venvBin, 'ansible-vault'),
    vault_wait_seconds: 10,
    vault_unseal_retries: 1,
  };
  // -v prints every task result: what no_log hides is what would otherwise be shown.
  return ansible('ansible-playbook', ['-v', '-i', hostsFile, '-e', JSON.stringify(vars), ...extra, file], rolesDir);
}

/** `changed=N` of the play recap's one host. */
function changed(run: Run): number {
  const host = playRecap(run.out).localhost;
  assert.ok(host && host.unreachable === 0 && host.failed === 0, `no successful recap in:\n${run.out}`);
  return host.changed ?? Number.NaN;
}

function secretsOf(cluster: StandInCluster): string[] {
  return [...cluster.shares.flatMap((s) => [s.toString('hex'), s.toString('base64')]), cluster.rootToken];
}

const cluster = new StandInCluster();
const servers = [new StandInServer(cluster), new StandInServer(cluster)];
const outputs: string[] = [];

before(async () => {
  for (const s of servers) await s.start();
});
after(async () => {
  for (const s of servers) await s.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the vault role against a stand-in of Vault', () => {
  it('initializes once, keeps the keys ansible-vault encrypted on the controller, and unseals every server', async () => {
    const run = await playbook(rolePlaybook, servers);
    outputs.push(run.out);
    assert.equal(run.code, 0, run.out);
    assert.ok(changed(run) > 0);
    assert.equal(cluster.inits, 1);
    assert.deepEqual(
      servers.map((s) => s.sealed),
      [false, false],
    );
    const file = readFileSync(keysFile, 'utf8');
    assert.ok(file.startsWith('$ANSIBLE_VAULT;1.1;AES256\n'), file.slice(0, 40));
    for (const secret of secretsOf(cluster)) assert.ok(!file.includes(secret));
    const view = await ansible('ansible-vault', ['view', '--vault-password-file', passwordFile, keysFile]);
    assert.equal(view.code, 0, view.out);
    assert.match(view.out, new RegExp(`root_token: ${cluster.rootToken.replace('.', '\\.')}`));
    for (const share of cluster.shares) assert.ok(view.out.includes(share.toString('hex')), 'every hex share is kept');
    const wrong = join(scratch, 'wrong-password');
    writeFileSync(wrong, 'not the password\n');
    assert.notEqual((await ansible('ansible-vault', ['view', '--vault-password-file', wrong, keysFile])).code, 0);
  });

  it('a second run changes nothing and does not re-initialize', async () => {
    const before = readFileSync(keysFile, 'utf8');
    const run = await playbook(rolePlaybook, servers);
    outputs.push(run.out);
    assert.equal(run.code, 0, run.out);
    assert.equal(changed(run), 0, run.out);
    assert.equal(cluster.inits, 1);
    assert.equal(readFileSync(keysFile, 'utf8'), before);
  });

  it('after a restart unseal.yml unseals every server with the stored keys; a second unseal changes nothing', async () => {
    for (const s of servers) s.restart();
    const run = await playbook('playbooks/unseal.yml', servers);
    outputs.push(run.out);
    assert.equal(run.code, 0, run.out);
    assert.ok(changed(run) > 0);
    assert.deepEqual(
      servers.map((s) => s.sealed),
      [false, false],
    );
    const again = await playbook('playbooks/unseal.yml', servers);
    outputs.push(again.out);
    assert.equal(changed(again), 0, again.out);
    assert.equal(cluster.inits, 1);
  });

  it('unseal.yml fails with a clear message when the stored keys do not open Vault', async () => {
    const other = new StandInCluster();
    const stranger = new StandInServer(other);
    await stranger.start();
    try {
      other.initialized = true;
      other.threshold = 3;
      other.shares = Array.from({ length: 5 }, () => randomBytes(33));
      const run = await playbook('playbooks/unseal.yml', [stranger]);
      outputs.push(run.out);
      assert.notEqual(run.code, 0);
      assert.match(run.out, /is still sealed after 3 keys from .*Vault said: cipher: message authentication failed/s);
      assert.equal(stranger.sealed, true);
    } finally {
      await stranger.stop();
    }
  });

  it('no key and no token ever appears in the ansible output', () => {
    assert.ok(outputs.length >= 4);
    for (const out of outputs)
      for (const secret of secretsOf(cluster)) assert.ok(!out.includes(secret), 'a secret leaked');
  });

  it('without no_log the same role leaks them: the check above can fail', async () => {
    const roles = join(scratch, 'planted-roles');
    cpSync(join(ansibleDir, 'roles'), roles, { recursive: true });
    const init = join(roles, 'vault', 'tasks', 'init.yml');
    writeFileSync(init, readFileSync(init, 'utf8').replaceAll('  no_log: true\n', ''));
    const fresh = new StandInCluster();
    const server = new StandInServer(fresh);
    await server.start();
    try {
      const run = await playbook(
        rolePlaybook,
        [server],
        ['-e', `vault_keys_file=${join(scratch, 'planted.vault.yml')}`],
        roles,
      );
      assert.equal(run.code, 0, run.out);
      assert.ok(run.out.includes(fresh.rootToken), 'the root token is printed once no_log is gone');
    } finally {
      await server.stop();
    }
  });
});
