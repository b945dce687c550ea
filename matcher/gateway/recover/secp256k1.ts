// Public-key recovery from an Ethereum-style 65-byte signature (r ‖ s ‖ v) over a 32-byte
// digest, returning the signer's 20-byte address. Two back ends with identical answers:
// native libsecp256k1 (the `secp256k1` addon) and pure JS (@noble/curves). Both refuse
// what the Exchange contract refuses: r or s zero or ≥ n, s in the upper half (malleable),
// and v other than 27/28 (0/1 accepted as the raw recovery id).
import { secp256k1 as nobleSecp } from "@noble/curves/secp256k1";
import { keccak256, keccak256Js, type Keccak256 } from "./keccak";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = N >> 1n;

export interface Recoverer {
  readonly name: string;
  /** 20-byte address, or null when the signature is invalid or malleable. */
  recover(digest: Uint8Array, sig: Uint8Array): Uint8Array | null;
}

const N_BYTES = Buffer.from(N.toString(16).padStart(64, "0"), "hex");
const HALF_N_BYTES = Buffer.from(HALF_N.toString(16).padStart(64, "0"), "hex");

/** Compare the 32-byte big-endian word at sig[from..from+32) with `ref`: -1, 0 or 1. */
function cmpWord(sig: Uint8Array, from: number, ref: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const a = sig[from + i];
    const b = ref[i];
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

function isZeroWord(sig: Uint8Array, from: number): boolean {
  for (let i = 0; i < 32; i++) if (sig[from + i] !== 0) return false;
  return true;
}

/** Recovery id 0/1 for a well-formed low-s signature, or -1. */
export function checkSignature(sig: Uint8Array): number {
  if (sig.length !== 65) return -1;
  const v = sig[64];
  const recid = v === 27 || v === 28 ? v - 27 : v === 0 || v === 1 ? v : -1;
  if (recid < 0) return -1;
  // r in [1, n), s in [1, n/2]: byte comparisons, no BigInt on the hot path
  if (isZeroWord(sig, 0) || cmpWord(sig, 0, N_BYTES) >= 0) return -1;
  if (isZeroWord(sig, 32) || cmpWord(sig, 32, HALF_N_BYTES) > 0) return -1;
  return recid;
}

function addressOf(uncompressed: Uint8Array, keccak: Keccak256): Uint8Array {
  return keccak(uncompressed.subarray(1, 65)).subarray(12, 32);
}

type NativeSecp = {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean, out?: Uint8Array): Uint8Array;
};

function loadNative(): NativeSecp | null {
  try {
    return require("secp256k1/bindings") as NativeSecp;
  } catch {
    return null;
  }
}

const native = loadNative();

export const nativeRecoverer: Recoverer | null = native
  ? {
      name: "native",
      recover(digest, sig) {
        const recid = checkSignature(sig);
        if (recid < 0 || digest.length !== 32) return null;
        try {
          const pub = native.ecdsaRecover(sig.subarray(0, 64), recid, digest, false, new Uint8Array(65));
          return addressOf(pub, keccak256);
        } catch {
          return null;
        }
      },
    }
  : null;

export const jsRecoverer: Recoverer = {
  name: "js",
  recover(digest, sig) {
    const recid = checkSignature(sig);
    if (recid < 0 || digest.length !== 32) return null;
    try {
      const pub = nobleSecp.Signature.fromCompact(sig.subarray(0, 64))
        .addRecoveryBit(recid)
        .recoverPublicKey(digest)
        .toRawBytes(false);
      return addressOf(pub, keccak256Js);
    } catch {
      return null;
    }
  },
};

/** The fastest back end available (native unless forced with RECOVER_BACKEND=js). */
export function defaultRecoverer(prefer: "native" | "js" = "native"): Recoverer {
  return prefer === "native" && nativeRecoverer ? nativeRecoverer : jsRecoverer;
}
