// EIP-1559 transaction serialization (= viem serializeTransaction for type "eip1559" without an access
// list) over Buffers: viem round-trips a 100 kB payload through hex and byte arrays several times per
// signature. test/keeper/txRlp.test.ts checks it against viem.
import type { Address, Hex } from "viem";

function intBytes(v: bigint | number): Buffer {
  const x = BigInt(v);
  if (x < 0n) throw new RangeError("rlp: negative integer");
  if (x === 0n) return Buffer.alloc(0);
  let h = x.toString(16);
  if (h.length % 2) h = "0" + h;
  return Buffer.from(h, "hex");
}

function lengthPrefix(len: number, short: number): Buffer {
  if (len < 56) return Buffer.from([short + len]);
  let h = len.toString(16);
  if (h.length % 2) h = "0" + h;
  const l = Buffer.from(h, "hex");
  return Buffer.concat([Buffer.from([short + 55 + l.length]), l]);
}

function item(b: Buffer): Buffer[] {
  if (b.length === 1 && b[0] < 0x80) return [b];
  return [lengthPrefix(b.length, 0x80), b];
}

export interface Eip1559Fields {
  chainId: number;
  nonce: number | bigint;
  maxPriorityFeePerGas: bigint;
  maxFeePerGas: bigint;
  gas: bigint;
  to: Address;
  value: bigint;
  data: Hex;
}

/** 0x02 ‖ rlp([chainId, nonce, tip, maxFee, gas, to, value, data, [], (yParity, r, s)]) as hex. */
export function serializeEip1559(tx: Eip1559Fields, sig?: { yParity: number; r: Hex; s: Hex }): Hex {
  const parts: Buffer[] = [];
  for (const v of [tx.chainId, tx.nonce, tx.maxPriorityFeePerGas, tx.maxFeePerGas, tx.gas])
    parts.push(...item(intBytes(v)));
  parts.push(...item(Buffer.from(tx.to.slice(2), "hex")));
  parts.push(...item(intBytes(tx.value)));
  parts.push(...item(Buffer.from(tx.data.slice(2), "hex")));
  parts.push(Buffer.from([0xc0])); // empty access list
  if (sig) {
    parts.push(...item(intBytes(sig.yParity)));
    parts.push(...item(intBytes(BigInt(sig.r))));
    parts.push(...item(intBytes(BigInt(sig.s))));
  }
  let len = 0;
  for (const p of parts) len += p.length;
  return `0x02${Buffer.concat([lengthPrefix(len, 0xc0), ...parts]).toString("hex")}`;
}
