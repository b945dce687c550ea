// keccak-256 with the native `keccak` addon and a pure-JS fallback (@noble/hashes) that
// gives byte-identical answers. `keccak256` picks the native one when it loads.
import { keccak_256 } from "@noble/hashes/sha3";

export type Keccak256 = (data: Uint8Array) => Uint8Array;

export const keccak256Js: Keccak256 = (data) => keccak_256(data);

function loadNative(): Keccak256 | null {
  try {
    // The addon's bindings entry throws when the compiled module is missing.
    const create = require("keccak/bindings") as (alg: string) => {
      update(d: Buffer): { digest(): Buffer };
    };
    const probe = create("keccak256").update(Buffer.alloc(0)).digest();
    if (probe.toString("hex") !== "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470") return null;
    return (data) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      return create("keccak256").update(buf).digest();
    };
  } catch {
    return null;
  }
}

export const keccak256Native: Keccak256 | null = loadNative();

export const keccak256: Keccak256 = keccak256Native ?? keccak256Js;
