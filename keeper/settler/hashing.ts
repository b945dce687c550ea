// The settler's EIP-712 hashing with the native keccak: the order struct and the domain through the
// gateway's TypedDataHasher (type hash and domain separator computed once), the Batch (nested Order[],
// which that flat hasher does not take) assembled here from the order struct hashes.
// Byte-identical to sdk/eip712.ts (viem's hashTypedData), which test/keeper/settlerHashing.test.ts checks;
// viem spends most of a batch's build time re-deriving the domain and types for every order.
import type { Hex, LocalAccount } from "viem";
import { keccakBytes } from "../keccak";
import { checkInt, TypedDataHasher, writeWord, type FieldValue } from "../../matcher/gateway/recover/eip712";
import {
  BATCH_TYPE_STRING,
  ORDER_FIELDS,
  signBatch,
  type BatchContent,
  type ExchangeDomain,
  type Fill,
  type Order,
} from "../../sdk/eip712";

const BATCH_TYPEHASH = keccakBytes(Buffer.from(BATCH_TYPE_STRING));

/** Order and batch hashes for one Exchange domain. */
export class SettlerHasher {
  private readonly order: TypedDataHasher;

  constructor(readonly domain: ExchangeDomain) {
    this.order = new TypedDataHasher("Order", ORDER_FIELDS, domain, keccakBytes);
  }

  /** The order's EIP-712 struct hash (32 bytes). */
  orderStruct(o: Order): Uint8Array {
    return this.order.structHash(o as unknown as Readonly<Record<string, FieldValue>>);
  }

  /** EIP-712 digest of a struct hash under this domain. */
  digestOf(struct: Uint8Array): Uint8Array {
    const b = Buffer.allocUnsafe(66);
    b[0] = 0x19;
    b[1] = 0x01;
    b.set(this.order.domainSeparator, 2);
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
      writeWord(checkInt(BigInt(f.maker), 16, false, "fill maker"), b, o);
      writeWord(checkInt(BigInt(f.taker), 16, false, "fill taker"), b, o + 32);
      writeWord(checkInt(f.size, 64, false, "fill size"), b, o + 64);
      writeWord(checkInt(f.price, 64, false, "fill price"), b, o + 96);
      writeWord(checkInt(f.makerFee, 64, true, "maker fee"), b, o + 128);
      writeWord(checkInt(f.takerFee, 64, true, "taker fee"), b, o + 160);
    });
    return b;
  }

  /** = sdk hashBatch; `orderStructs` are the batch's orders' struct hashes, in order (orderStruct). */
  hashBatch(b: Pick<BatchContent, "number" | "deadline" | "fills">, orderStructs: readonly Uint8Array[]): Hex {
    const orders = Buffer.allocUnsafe(orderStructs.length * 32);
    orderStructs.forEach((s, i) => orders.set(s, i * 32));
    const s = Buffer.allocUnsafe(5 * 32);
    s.set(BATCH_TYPEHASH, 0);
    writeWord(checkInt(b.number, 64, false, "batch number"), s, 32);
    writeWord(checkInt(b.deadline, 64, false, "deadline"), s, 64);
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
