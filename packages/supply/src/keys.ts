import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  scryptSync,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import nacl from 'tweetnacl';
import { SupplyError, SupplyErrorCode } from './errors.ts';

/**
 * PEM type of cosign's own private key file (sigstore/cosign `pkg/cosign/keys.go`); the older
 * `ENCRYPTED COSIGN PRIVATE KEY` is read too. The PEM body is the JSON of
 * secure-systems-lab/go-securesystemslib `encrypted`: scrypt KDF + NaCl secretbox around the
 * PKCS#8 DER of the key.
 */
export const sigstorePemType = 'ENCRYPTED SIGSTORE PRIVATE KEY';
const cosignPemType = 'ENCRYPTED COSIGN PRIVATE KEY';

/** scrypt parameters cosign writes (go-securesystemslib `encrypted`: N=2^15, r=8, p=1, 32-byte salt). */
const scryptParams = { N: 32768, r: 8, p: 1 } as const;

interface EncryptedKey {
  kdf: { name: 'scrypt'; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: 'nacl/secretbox'; nonce: string };
  ciphertext: string;
}

function pem(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${type}-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${type}-----\n`;
}

function unpem(text: string): { type: string; der: Buffer } | undefined {
  const m = /-----BEGIN ([A-Z ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m?.[1] || m[2] === undefined) return undefined;
  return { type: m[1], der: Buffer.from(m[2].replace(/\s+/g, ''), 'base64') };
}

function scrypt(password: string, salt: Buffer, p: { N: number; r: number; p: number }): Buffer {
  // 128·N·r bytes = 32 MiB for cosign's parameters, Node's default cap; allow headroom.
  return scryptSync(Buffer.from(password, 'utf8'), salt, 32, { ...p, maxmem: 256 * 1024 * 1024 });
}

/** Encrypts a PKCS#8 DER key in cosign's format; returns the PEM text. */
export function encryptPrivateKey(pkcs8: Buffer, password: string): string {
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const key = scrypt(password, salt, scryptParams);
  const box = nacl.secretbox(new Uint8Array(pkcs8), new Uint8Array(nonce), new Uint8Array(key));
  const body: EncryptedKey = {
    kdf: { name: 'scrypt', params: { ...scryptParams }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(box).toString('base64'),
  };
  return pem(sigstorePemType, Buffer.from(JSON.stringify(body)));
}

/** Decrypts cosign's encrypted key body (the PEM's bytes) to PKCS#8 DER. */
export function decryptPrivateKey(body: Buffer, password: string, file: string): Buffer {
  let data: EncryptedKey;
  try {
    data = JSON.parse(body.toString('utf8')) as EncryptedKey;
  } catch {
    throw new SupplyError(SupplyErrorCode.keyInvalid, `${file}: encrypted key body is not JSON`);
  }
  if (data?.kdf?.name !== 'scrypt' || data.cipher?.name !== 'nacl/secretbox') {
    throw new SupplyError(
      SupplyErrorCode.keyInvalid,
      `${file}: unsupported key encryption (want scrypt + nacl/secretbox)`,
    );
  }
  const { N, r, p } = data.kdf.params ?? {};
  // Bound the work factor: a tampered file must not make us allocate gigabytes.
  if (!Number.isInteger(N) || N < 2 || N > 2 ** 20 || (N & (N - 1)) !== 0 || r !== 8 || p !== 1) {
    throw new SupplyError(SupplyErrorCode.keyInvalid, `${file}: unexpected scrypt parameters`);
  }
  const key = scrypt(password, Buffer.from(data.kdf.salt, 'base64'), { N, r, p });
  const opened = nacl.secretbox.open(
    new Uint8Array(Buffer.from(data.ciphertext, 'base64')),
    new Uint8Array(Buffer.from(data.cipher.nonce, 'base64')),
    new Uint8Array(key),
  );
  if (!opened)
    throw new SupplyError(SupplyErrorCode.keyInvalid, `${file}: wrong password (COSIGN_PASSWORD) or corrupt key`);
  return Buffer.from(opened);
}

/** A new ECDSA P-256 key pair: cosign.key text (encrypted when `password` is given) and cosign.pub. */
export function generateKeys(password: string | undefined): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const privatePem = password === undefined ? pem('PRIVATE KEY', pkcs8) : encryptPrivateKey(pkcs8, password);
  return { privatePem, publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

function requireP256(key: KeyObject, file: string): KeyObject {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SupplyError(SupplyErrorCode.keyInvalid, `${file}: not an ECDSA P-256 key`);
  }
  return key;
}

/**
 * Loads a signing key: PKCS#8 PEM (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`), or cosign's
 * encrypted file, decrypted with `password` (from COSIGN_PASSWORD).
 */
export async function loadPrivateKey(file: string, password: string | undefined): Promise<KeyObject> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SupplyError(
      SupplyErrorCode.keyInvalid,
      `cannot read key ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  return privateKeyFromPem(text, file, password);
}

/**
 * A private key from its PEM text (as {@link loadPrivateKey} reads from a file); `file` names where it came from in
 * errors (a path, or `$VAR` for an environment variable, as CI hands a key over).
 */
export function privateKeyFromPem(text: string, file: string, password: string | undefined): KeyObject {
  const block = unpem(text);
  if (!block) throw new SupplyError(SupplyErrorCode.keyInvalid, `${file}: no PEM block`);
  try {
    if (block.type === sigstorePemType || block.type === cosignPemType) {
      if (password === undefined) {
        throw new SupplyError(SupplyErrorCode.keyInvalid, `${file} is encrypted: set COSIGN_PASSWORD`);
      }
      const der = decryptPrivateKey(block.der, password, file);
      return requireP256(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }), file);
    }
    if (block.type === 'PRIVATE KEY' || block.type === 'EC PRIVATE KEY') {
      return requireP256(createPrivateKey(text), file);
    }
  } catch (err) {
    if (err instanceof SupplyError) throw err;
    throw new SupplyError(SupplyErrorCode.keyInvalid, `${file}: unreadable private key: ${(err as Error).message}`);
  }
  throw new SupplyError(SupplyErrorCode.keyInvalid, `${file}: unsupported PEM type '${block.type}'`);
}

/** Loads a PEM SubjectPublicKeyInfo ECDSA P-256 key (cosign.pub). */
export async function loadPublicKey(file: string): Promise<KeyObject> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SupplyError(
      SupplyErrorCode.keyInvalid,
      `cannot read key ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  try {
    return requireP256(createPublicKey(text), file);
  } catch (err) {
    if (err instanceof SupplyError) throw err;
    throw new SupplyError(SupplyErrorCode.keyInvalid, `${file}: not a PEM public key`);
  }
}
