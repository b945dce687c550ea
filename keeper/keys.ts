// Keys for the keeper: the operator key (signs batches) and the gas key (sends transactions). From a
// hex private key in the environment, or from an encrypted keystore file (Web3 Secret Storage v3, as
// written by geth, ethers and foundry: scrypt or pbkdf2, aes-128-ctr, keccak MAC). A key never appears
// in a log or an error message; only the address does.
import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes, randomUUID, scryptSync } from "node:crypto";
import fs from "node:fs";
import { keccak256, type Hex, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";

interface KeystoreV3 {
  version: 3;
  address?: string;
  crypto?: KeystoreCrypto;
  Crypto?: KeystoreCrypto;
}

interface KeystoreCrypto {
  cipher: string;
  ciphertext: string;
  cipherparams: { iv: string };
  kdf: "scrypt" | "pbkdf2";
  kdfparams: { dklen: number; salt: string; n?: number; r?: number; p?: number; c?: number; prf?: string };
  mac: string;
}

const hex = (b: Buffer) => b.toString("hex");

function derive(c: KeystoreCrypto, password: string): Buffer {
  const p = c.kdfparams;
  const salt = Buffer.from(p.salt, "hex");
  if (c.kdf === "scrypt") {
    const N = p.n!;
    return scryptSync(Buffer.from(password.normalize("NFKC")), salt, p.dklen, {
      N,
      r: p.r!,
      p: p.p!,
      maxmem: 256 * N * p.r! + 1024 * 1024,
    });
  }
  if (c.kdf === "pbkdf2") {
    if (p.prf !== "hmac-sha256") throw new Error("keystore: unsupported pbkdf2 prf");
    return pbkdf2Sync(Buffer.from(password.normalize("NFKC")), salt, p.c!, p.dklen, "sha256");
  }
  throw new Error("keystore: unsupported kdf");
}

/** Decrypts a V3 keystore; throws "wrong password" on a MAC mismatch (never echoing secrets). */
export function decryptKeystore(json: string, password: string): Hex {
  const ks = JSON.parse(json) as KeystoreV3;
  const c = ks.crypto ?? ks.Crypto;
  if (ks.version !== 3 || !c) throw new Error("keystore: not a version 3 keystore");
  if (c.cipher !== "aes-128-ctr") throw new Error("keystore: unsupported cipher");
  const dk = derive(c, password);
  const ct = Buffer.from(c.ciphertext, "hex");
  const mac = keccak256(Buffer.concat([dk.subarray(16, 32), ct])).slice(2);
  if (mac !== c.mac.toLowerCase()) throw new Error("keystore: wrong password (MAC mismatch)");
  const d = createDecipheriv("aes-128-ctr", dk.subarray(0, 16), Buffer.from(c.cipherparams.iv, "hex"));
  return `0x${hex(Buffer.concat([d.update(ct), d.final()]))}`;
}

/** Encrypts a key as a V3 keystore (scrypt). `n` defaults to 2^17 (use a small n only in tests). */
export function encryptKeystore(key: Hex, password: string, opts: { n?: number } = {}): string {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const n = opts.n ?? 131072;
  const kdfparams = { dklen: 32, salt: hex(salt), n, r: 8, p: 1 };
  const dk = scryptSync(Buffer.from(password.normalize("NFKC")), salt, 32, {
    N: n,
    r: 8,
    p: 1,
    maxmem: 256 * n * 8 + 1024 * 1024,
  });
  const c = createCipheriv("aes-128-ctr", dk.subarray(0, 16), iv);
  const ct = Buffer.concat([c.update(Buffer.from(key.slice(2), "hex")), c.final()]);
  const mac = keccak256(Buffer.concat([dk.subarray(16, 32), ct])).slice(2);
  return JSON.stringify({
    version: 3,
    id: randomUUID(),
    address: privateKeyToAccount(key).address.slice(2).toLowerCase(),
    crypto: {
      cipher: "aes-128-ctr",
      ciphertext: hex(ct),
      cipherparams: { iv: hex(iv) },
      kdf: "scrypt",
      kdfparams,
      mac,
    },
  });
}

export interface KeySource {
  /** 0x-prefixed 32-byte hex. */
  privateKey?: string;
  keystoreFile?: string;
  password?: string;
  passwordFile?: string;
}

/** Loads a key; `what` names it in errors ("operator", "gas"). */
export function loadAccount(what: string, src: KeySource): LocalAccount {
  let key: string | undefined = src.privateKey?.trim();
  if (!key && src.keystoreFile) {
    const password =
      src.password ?? (src.passwordFile ? fs.readFileSync(src.passwordFile, "utf8").replace(/\r?\n$/, "") : undefined);
    if (password === undefined) throw new Error(`${what} key: keystore given without a password`);
    key = decryptKeystore(fs.readFileSync(src.keystoreFile, "utf8"), password);
  }
  if (!key) throw new Error(`${what} key: none configured`);
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new Error(`${what} key: not a 32-byte hex private key`);
  return privateKeyToAccount(key as Hex);
}
