import { expect } from "chai";
import { hashTypedData, recoverTypedDataAddress, keccak256 as viemKeccak, toHex } from "viem";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import { secp256k1 } from "@noble/curves/secp256k1";
import { keccak256Js, keccak256Native } from "../../../matcher/gateway/recover/keccak";
import { jsRecoverer, nativeRecoverer, checkSignature } from "../../../matcher/gateway/recover/secp256k1";
import { TypedDataHasher } from "../../../matcher/gateway/recover/eip712";
import { RecoverPool } from "../../../matcher/gateway/recover/pool";
import { bytesToHex, hexToBytes } from "../../../matcher/gateway/recover/hex";

const N = secp256k1.CURVE.n;

function rnd(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(Math.random() * 256);
  return b;
}

function sign(digest: Uint8Array, pk: `0x${string}`): Uint8Array {
  const s = secp256k1.sign(digest, hexToBytes(pk));
  const out = new Uint8Array(65);
  out.set(s.toCompactRawBytes(), 0);
  out[64] = 27 + s.recovery;
  return out;
}

/** The same signature with s -> n - s and the recovery bit flipped: valid for ecrecover, malleable. */
function highS(sig: Uint8Array): Uint8Array {
  const s = BigInt(bytesToHex(sig.subarray(32, 64)));
  const hs = N - s;
  const out = new Uint8Array(sig);
  out.set(hexToBytes(hs.toString(16).padStart(64, "0")), 32);
  out[64] = sig[64] === 27 ? 28 : 27;
  return out;
}

describe("gateway/recover", () => {
  it("native keccak loads and equals the JS keccak on random inputs", () => {
    expect(keccak256Native, "native keccak addon").to.not.equal(null);
    for (let i = 0; i < 300; i++) {
      const d = rnd(i * 3);
      const want = viemKeccak(d);
      expect(bytesToHex(keccak256Js(d))).to.equal(want);
      expect(bytesToHex(keccak256Native!(d))).to.equal(want);
    }
  });

  it("native and JS recovery give the signer's address for random keys and digests", () => {
    expect(nativeRecoverer, "native secp256k1 addon").to.not.equal(null);
    for (let i = 0; i < 200; i++) {
      const pk = generatePrivateKey();
      const addr = privateKeyToAccount(pk).address.toLowerCase();
      const digest = rnd(32);
      const sig = sign(digest, pk);
      expect(bytesToHex(nativeRecoverer!.recover(digest, sig)!)).to.equal(addr);
      expect(bytesToHex(jsRecoverer.recover(digest, sig)!)).to.equal(addr);
    }
  });

  it("both refuse malleable high-s, bad v, zero r/s and wrong lengths alike", () => {
    for (let i = 0; i < 50; i++) {
      const pk = generatePrivateKey();
      const digest = rnd(32);
      const sig = sign(digest, pk);
      const bad: Uint8Array[] = [highS(sig), sig.subarray(0, 64)];
      const v = new Uint8Array(sig);
      v[64] = 29;
      bad.push(v);
      const zr = new Uint8Array(sig);
      zr.fill(0, 0, 32);
      bad.push(zr);
      const zs = new Uint8Array(sig);
      zs.fill(0, 32, 64);
      bad.push(zs);
      const bigR = new Uint8Array(sig);
      bigR.fill(0xff, 0, 32);
      bad.push(bigR);
      for (const b of bad) {
        expect(nativeRecoverer!.recover(digest, b)).to.equal(null);
        expect(jsRecoverer.recover(digest, b)).to.equal(null);
      }
      expect(checkSignature(highS(sig))).to.equal(-1);
      // raw recovery ids 0/1 are accepted as well as 27/28
      const raw = new Uint8Array(sig);
      raw[64] -= 27;
      expect(bytesToHex(nativeRecoverer!.recover(digest, raw)!)).to.equal(
        bytesToHex(jsRecoverer.recover(digest, raw)!),
      );
    }
  });

  it("a random signature recovers to the same (wrong) address or null on both back ends", () => {
    for (let i = 0; i < 200; i++) {
      const digest = rnd(32);
      const sig = rnd(65);
      sig[64] = 27 + (i & 1);
      sig[32] &= 0x7f; // keep s mostly in the lower half so recovery is attempted
      const a = nativeRecoverer!.recover(digest, sig);
      const b = jsRecoverer.recover(digest, sig);
      expect(a === null ? null : bytesToHex(a)).to.equal(b === null ? null : bytesToHex(b));
    }
  });

  it("TypedDataHasher digest equals viem hashTypedData and recovers like recoverTypedDataAddress", async () => {
    const domain = {
      name: "AsterSignTransaction",
      version: "1",
      chainId: 1666,
      verifyingContract: "0x0000000000000000000000000000000000000000",
    } as const;
    const types = { Message: [{ name: "msg", type: "string" }] } as const;
    const h = new TypedDataHasher("Message", types.Message, domain);
    const order = [
      { name: "account", type: "address" },
      { name: "market", type: "uint32" },
      { name: "size", type: "int128" },
      { name: "price", type: "uint64" },
      { name: "flags", type: "bytes4" },
      { name: "reduceOnly", type: "bool" },
      { name: "data", type: "bytes" },
    ] as const;
    const od = { name: "X", version: "2", chainId: 31337n, verifyingContract: "0x" + "ab".repeat(20) } as const;
    const ho = new TypedDataHasher("Order", order, od);
    for (let i = 0; i < 20; i++) {
      const pk = generatePrivateKey();
      const acct = privateKeyToAccount(pk);
      const msg = `symbol=BTCUSDT&nonce=${Date.now() * 1000 + i}&user=${acct.address}&ü=${i}`;
      const want = hashTypedData({ domain, types, primaryType: "Message", message: { msg } });
      expect(bytesToHex(h.digest({ msg }))).to.equal(want);
      const sigHex = await acct.signTypedData({ domain, types, primaryType: "Message", message: { msg } });
      const viemAddr = await recoverTypedDataAddress({
        domain,
        types,
        primaryType: "Message",
        message: { msg },
        signature: sigHex,
      });
      expect(bytesToHex(nativeRecoverer!.recover(h.digest({ msg }), hexToBytes(sigHex))!)).to.equal(
        viemAddr.toLowerCase(),
      );
      const ov = {
        account: acct.address,
        market: 7 + i,
        size: BigInt(-1 - i) * 10n ** 20n,
        price: 60_000_000_000n,
        flags: toHex(rnd(4)),
        reduceOnly: i % 2 === 0,
        data: toHex(rnd(i)),
      };
      const wantO = hashTypedData({
        domain: od as never,
        types: { Order: order },
        primaryType: "Order",
        message: ov as never,
      });
      expect(bytesToHex(ho.digest(ov))).to.equal(wantO);
    }
  });

  it("the worker pool recovers batches off-thread with the same answers, invalid as null", async () => {
    for (const backend of ["native", "js"] as const) {
      const pool = new RecoverPool({ workers: 2, backend });
      try {
        const jobs = Array.from({ length: 300 }, (_, i) => {
          const pk = generatePrivateKey();
          const digest = rnd(32);
          const sig = sign(digest, pk);
          return {
            digest,
            sig: i % 7 === 0 ? highS(sig) : sig,
            want: i % 7 === 0 ? null : privateKeyToAccount(pk).address.toLowerCase(),
          };
        });
        const got = await Promise.all(jobs.map((j) => pool.recover(j.digest, j.sig)));
        expect(got).to.deep.equal(jobs.map((j) => j.want));
        expect(pool.recovered).to.equal(300);
      } finally {
        await pool.close();
      }
    }
  });
});
