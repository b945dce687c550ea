// keccak-256 for the keeper's hot paths (batch hashing, transaction hashes of 100 kB payloads): the native
// `keccak` addon through matcher/gateway/recover/keccak.ts (@noble/hashes when the addon does not load).
import type { Hex } from "viem";
import { keccak256 as keccakBytes } from "../matcher/gateway/recover/keccak";

export { keccakBytes };

/** keccak-256 of hex or bytes, as hex (= viem keccak256). */
export function keccakHex(data: Hex | Uint8Array): Hex {
  const b = typeof data === "string" ? Buffer.from(data.slice(2), "hex") : data;
  return `0x${Buffer.from(keccakBytes(b)).toString("hex")}`;
}
