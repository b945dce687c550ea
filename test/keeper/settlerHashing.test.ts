import { expect } from "chai";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { keccak256, type Hex } from "viem";
import {
  exchangeDomain,
  encodeFills,
  hashBatch,
  hashOrder,
  orderStructHash,
  signBatch,
  type Batch,
  type Order,
} from "../../sdk/eip712";
import { SettlerHasher } from "../../keeper/settler/hashing";
import { keccakHex } from "../../keeper/keccak";

describe("keeper/settler hashing (native keccak) = sdk/eip712 (viem)", () => {
  const domain = exchangeDomain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
  const h = new SettlerHasher(domain);
  const rnd = (bits: number) =>
    BigInt(`0x${Buffer.from(crypto.getRandomValues(new Uint8Array(bits / 8))).toString("hex")}`);
  const order = (i: number): Order => ({
    account: privateKeyToAccount(generatePrivateKey()).address,
    market: i % 3 === 0 ? 2 ** 32 - 1 : i,
    isBuy: i % 2 === 0,
    reduceOnly: i % 5 === 0,
    price: i === 0 ? (1n << 64n) - 1n : rnd(64),
    size: rnd(56),
    nonce: BigInt(i),
    expiry: rnd(40),
  });

  it("order struct hashes and digests", () => {
    for (let i = 0; i < 50; i++) {
      const o = order(i);
      expect(`0x${Buffer.from(h.orderStruct(o)).toString("hex")}`).to.equal(orderStructHash(o));
      expect(h.hashOrder(o)).to.equal(hashOrder(domain, o));
    }
  });

  it("batch digest, fills bytes and the operator signature, negative fees included", async () => {
    const orders = Array.from({ length: 7 }, (_, i) => order(i));
    const fills = Array.from({ length: 9 }, (_, i) => ({
      maker: i % 7,
      taker: (i + 1) % 7,
      size: rnd(60),
      price: rnd(64),
      makerFee: i % 2 ? -rnd(60) : rnd(60),
      takerFee: i === 3 ? -(1n << 63n) : (1n << 63n) - 1n,
    }));
    const batch: Batch = { number: 12345n, deadline: 1_900_000_000n, orders, signatures: [], fills };
    expect(`0x${SettlerHasher.encodeFills(fills).toString("hex")}`).to.equal(encodeFills(fills));
    const structs = orders.map((o) => h.orderStruct(o));
    expect(h.hashBatch(batch, structs)).to.equal(hashBatch(domain, batch));
    const op = privateKeyToAccount(generatePrivateKey());
    expect(await h.signBatch(op, batch, structs)).to.equal(await signBatch(op, domain, batch));
    expect(() => h.hashBatch({ ...batch, fills: [{ ...fills[0], makerFee: 1n << 63n }] }, structs)).to.throw(
      RangeError,
    );
  });

  it("keccakHex", () => {
    for (const x of ["0x", "0x00", `0x${"ab".repeat(70_000)}`] as Hex[]) expect(keccakHex(x)).to.equal(keccak256(x));
  });
});
