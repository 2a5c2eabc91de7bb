/**
 * No secret is in the repository: every file Git tracks is scanned for private keys (PEM blocks of any kind,
 * cosign's encrypted keys included), and for tokens of the forms registries and forges issue. Tests generate their
 * keys and passwords at run time (docs/testing.md). The scanner is shown to find each kind it looks for.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '..');

const patterns: Array<[string, RegExp]> = [
  // A PEM header followed by key material (a template that builds a PEM at run time is not one).
  ['a private key', /-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----\r?\n(?:[A-Za-z0-9-]+: [^\n]*\n)*[A-Za-z0-9+/=]{40,}/],
  ['a GitHub token', /\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,})\b/],
  ['a GitLab token', /\bglpat-[A-Za-z0-9_-]{20}\b/],
  ['an AWS access key', /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['a Slack token', /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/],
  ['a basic-auth header with credentials', /Authorization:\s*Basic\s+[A-Za-z0-9+/]{12,}={0,2}/],
];

/** What of `text` looks like a secret: one description per kind found. */
export function secretsIn(text: string): string[] {
  return patterns.filter(([, re]) => re.test(text)).map(([what]) => what);
}

describe('no secrets in the repository', () => {
  it('the scanner finds each kind it looks for', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const sec1 = privateKey.export({ format: 'pem', type: 'sec1' }).toString();
    const alnum = (n: number) =>
      randomBytes(n)
        .toString('base64')
        .replace(/[^A-Za-z0-9]/g, 'a')
        .slice(0, n);
    const up = (n: number) => randomBytes(n).toString('hex').toUpperCase().slice(0, n);
    assert.deepEqual(secretsIn(pem), ['a private key']);
    assert.deepEqual(secretsIn(sec1), ['a private key']);
    assert.deepEqual(secretsIn(`-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${alnum(40)}`), ['a private key']);
    assert.deepEqual(secretsIn(`token: ghp_${alnum(36)}`), ['a GitHub token']);
    assert.deepEqual(secretsIn(`glpat-${alnum(20)}`), ['a GitLab token']);
    assert.deepEqual(secretsIn(`AKIA${up(16)}`), ['an AWS access key']);
    assert.deepEqual(secretsIn(`xoxb-${alnum(24)}`), ['a Slack token']);
    assert.deepEqual(secretsIn(`Authorization: Basic ${Buffer.from(`ci:${alnum(16)}`).toString('base64')}`), [
      'a basic-auth header with credentials',
    ]);
    assert.deepEqual(secretsIn('-----BEGIN PUBLIC KEY-----\nMFkw'), []);
  });

  it('no tracked file holds one', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
    assert.ok(files.length > 300, `${files.length} tracked files`);
    const found = files.flatMap((file) => {
      let text: string;
      try {
        text = readFileSync(join(root, file), 'utf8');
      } catch {
        return []; // a tracked file deleted in the work tree
      }
      return secretsIn(text).map((what) => `${file}: ${what}`);
    });
    assert.deepEqual(found, []);
  });
});
