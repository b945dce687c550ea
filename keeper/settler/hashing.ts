// The settler's EIP-712 hashing with the native keccak (keeper/keccak.ts), type hashes and the domain separator computed once.
// Byte-identical to sdk/eip712.ts (viem's hashTypedData), which test/keeper/settlerHashing.test.ts checks;
// viem spends most of a batch's build time re-deriving the domain and types for every order.
import type { Hex, LocalAccount } from "viem";
import { keccakBytes } from "../keccak";
import {
  BATCH_TYPE_STRING,
  ORDER_TYPE_STRING,
  signBatch,
  type BatchContent,
  type ExchangeDomain,
  type Fill,
  type Order,
} from "../../sdk/eip712";

const TWO_256 = 1n << 256n;
const U64_MAX = (1n << 64n) - 1n;

function writeWord(x: bigint, out: Buffer, off: number): void {
  if (x >= 0n && x <= U64_MAX) {
    out.fill(0, off, off + 24);
    out.writeBigUInt64BE(x, off + 24);
    return;
  }
  out.write((x < 0n ? TWO_256 + x : x).toString(16).padStart(64, "0"), off, 32, "hex");
}

function checkRange(x: bigint, bits: number, signed: boolean, what: string): bigint {
  const lo = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const hi = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (x < lo || x > hi) throw new RangeError(`eip712: ${what} out of range`);
  return x;
}

const ORDER_TYPEHASH = keccakBytes(Buffer.from(ORDER_TYPE_STRING));
const BATCH_TYPEHASH = keccakBytes(Buffer.from(BATCH_TYPE_STRING));
const DOMAIN_TYPEHASH = keccakBytes(
  Buffer.from("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
);

/** Order and batch hashes for one Exchange domain. */
export class SettlerHasher {
  private readonly prefix: Buffer;

  constructor(readonly domain: ExchangeDomain) {
    const d = Buffer.alloc(5 * 32);
    d.set(DOMAIN_TYPEHASH, 0);
    d.set(keccakBytes(Buffer.from(domain.name)), 32);
    d.set(keccakBytes(Buffer.from(domain.version)), 64);
    writeWord(BigInt(domain.chainId), d, 96);
    d.write(domain.verifyingContract.slice(2), 128 + 12, 20, "hex");
    this.prefix = Buffer.alloc(34);
    this.prefix[0] = 0x19;
    this.prefix[1] = 0x01;
    this.prefix.set(keccakBytes(d), 2);
  }

  /** The order's EIP-712 struct hash (32 bytes). */
  orderStruct(o: Order): Uint8Array {
    if (!/^0x[0-9a-fA-F]{40}$/.test(o.account)) throw new TypeError("eip712: account is no address");
    const b = Buffer.allocUnsafe(9 * 32);
    b.set(ORDER_TYPEHASH, 0);
    b.fill(0, 32, 44);
    b.write(o.account.slice(2), 44, 20, "hex");
    writeWord(checkRange(BigInt(o.market), 32, false, "market"), b, 64);
    writeWord(o.isBuy ? 1n : 0n, b, 96);
    writeWord(o.reduceOnly ? 1n : 0n, b, 128);
    writeWord(checkRange(o.price, 64, false, "price"), b, 160);
    writeWord(checkRange(o.size, 64, false, "size"), b, 192);
    writeWord(checkRange(o.nonce, 64, false, "nonce"), b, 224);
    writeWord(checkRange(o.expiry, 64, false, "expiry"), b, 256);
    return keccakBytes(b);
  }

  /** EIP-712 digest of a struct hash under this domain. */
  digestOf(struct: Uint8Array): Uint8Array {
    const b = Buffer.allocUnsafe(66);
    b.set(this.prefix, 0);
    b.set(struct, 34);
    return keccakBytes(b);
  }

  /** = sdk hashOrder. */
  hashOrder(o: Order): Hex {
    return `0x${Buffer.from(this.digestOf(this.orderStruct(o))).toString("hex")}`;
  }

  /** The Batch type's `fills` bytes (= sdk encodeFills). */
  static encodeFills(fills: readonly Fill[]): Buffer {
    const b = Buffer.allocUnsafe(fills.length * 6 * 32);
    fills.forEach((f, i) => {
      const o = i * 192;
      writeWord(checkRange(BigInt(f.maker), 16, false, "fill maker"), b, o);
      writeWord(checkRange(BigInt(f.taker), 16, false, "fill taker"), b, o + 32);
      writeWord(checkRange(f.size, 64, false, "fill size"), b, o + 64);
      writeWord(checkRange(f.price, 64, false, "fill price"), b, o + 96);
      writeWord(checkRange(f.makerFee, 64, true, "maker fee"), b, o + 128);
      writeWord(checkRange(f.takerFee, 64, true, "taker fee"), b, o + 160);
    });
    return b;
  }

  /** = sdk hashBatch; `orderStructs` are the batch's orders' struct hashes, in order (orderStruct). */
  hashBatch(b: Pick<BatchContent, "number" | "deadline" | "fills">, orderStructs: readonly Uint8Array[]): Hex {
    const orders = Buffer.allocUnsafe(orderStructs.length * 32);
    orderStructs.forEach((s, i) => orders.set(s, i * 32));
    const s = Buffer.allocUnsafe(5 * 32);
    s.set(BATCH_TYPEHASH, 0);
    writeWord(checkRange(b.number, 64, false, "batch number"), s, 32);
    writeWord(checkRange(b.deadline, 64, false, "deadline"), s, 64);
    s.set(keccakBytes(orders), 96);
    s.set(keccakBytes(SettlerHasher.encodeFills(b.fills)), 128);
    return `0x${Buffer.from(this.digestOf(keccakBytes(s))).toString("hex")}`;
  }

  /**
   * The operator's signature over a batch (= sdk signBatch): the digest signed with the account's raw
   * `sign`; an account without one (a remote signer) signs the typed data itself.
   */
  async signBatch(operator: LocalAccount, batch: BatchContent, orderStructs: readonly Uint8Array[]): Promise<Hex> {
    if (!operator.sign) return signBatch(operator, this.domain, batch);
    return operator.sign({ hash: this.hashBatch(batch, orderStructs) });
  }
}
