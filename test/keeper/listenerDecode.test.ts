import { expect } from "chai";
import { encodeAbiParameters, encodeEventTopics, keccak256, parseEventLogs, toHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { exchangeAbi } from "../../sdk/abi";
import { decodeExchangeLogs } from "../../keeper/listener/decode";
import { bloomMayContain } from "../../keeper/listener/listener";

describe("keeper/listener log decoding (FillSettled fast path) = viem parseEventLogs", () => {
  const addr = () => privateKeyToAccount(generatePrivateKey()).address;
  const exchange = addr();
  let logIndex = 0;
  const base = () => ({
    address: exchange.toLowerCase() as Address,
    blockHash: toHex(7n, { size: 32 }),
    blockNumber: 7n,
    logIndex: logIndex++,
    transactionHash: toHex(9n, { size: 32 }),
    transactionIndex: 0,
    removed: false,
  });
  const fill = (i: number) => ({
    ...base(),
    topics: encodeEventTopics({
      abi: exchangeAbi,
      eventName: "FillSettled",
      args: { batch: i === 3 ? 2n ** 64n - 1n : BigInt(i), maker: addr(), taker: addr() },
    }) as [Hex, ...Hex[]],
    data: encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "uint32" },
        { type: "bool" },
        { type: "uint64" },
        { type: "uint64" },
        { type: "int64" },
        { type: "int64" },
      ],
      [
        toHex(BigInt(i) * 77n, { size: 32 }),
        toHex(BigInt(i) * 91n + 1n, { size: 32 }),
        i === 2 ? 2 ** 32 - 1 : i % 3,
        i % 2 === 0,
        i === 1 ? 2n ** 64n - 1n : BigInt(i) * 1_000_000n,
        60_000_000_000n + BigInt(i),
        i === 4 ? -(2n ** 63n) : -BigInt(i * 7),
        i === 5 ? 2n ** 63n - 1n : BigInt(i * 30),
      ],
    ),
  });
  const skipped = () => ({
    ...base(),
    topics: encodeEventTopics({ abi: exchangeAbi, eventName: "FillSkipped", args: { batch: 3n } }) as [Hex, ...Hex[]],
    data: encodeAbiParameters(
      [{ type: "uint256" }, { type: "uint8" }, { type: "bytes32" }],
      [2n, 4, toHex(1n, { size: 32 })],
    ),
  });

  it("decodes the same events, in order, with the same fields", () => {
    const logs = [fill(0), skipped(), fill(1), fill(2), fill(3), fill(4), fill(5), skipped(), fill(6)];
    // a FillSettled with a bool word above 1: not the fast path's; viem's strict decoding decides
    const odd = fill(8);
    odd.data = (odd.data.slice(0, 2 + 64 * 3) + "0".repeat(63) + "2" + odd.data.slice(2 + 64 * 4)) as Hex;
    logs.push(odd, fill(9));
    const ref = parseEventLogs({ abi: exchangeAbi, logs, strict: true });
    const got = decodeExchangeLogs(logs);
    expect(got.length).to.equal(ref.length);
    for (let i = 0; i < ref.length; i++) {
      expect(got[i].eventName).to.equal(ref[i].eventName);
      expect(got[i].args).to.deep.equal(ref[i].args);
      expect(got[i].logIndex).to.equal(ref[i].logIndex);
      expect(got[i].blockHash).to.equal(ref[i].blockHash);
      expect(got[i].address).to.equal(ref[i].address);
    }
  });
});

describe("keeper/listener bloom check", () => {
  /** A logs bloom holding these addresses (yellow paper M3:2048), built with BigInt bit arithmetic. */
  const bloomOf = (addrs: Address[]): Hex => {
    let b = 0n;
    for (const a of addrs) {
      const h = keccak256(a);
      for (let i = 0; i < 3; i++) b |= 1n << BigInt(parseInt(h.slice(2 + 4 * i, 6 + 4 * i), 16) & 2047);
    }
    return `0x${b.toString(16).padStart(512, "0")}`;
  };
  it("holds every address put in, rules out (nearly) every other, and an absent bloom rules nothing out", () => {
    const inside = Array.from({ length: 5 }, () => privateKeyToAccount(generatePrivateKey()).address);
    const bloom = bloomOf(inside);
    for (const a of inside) expect(bloomMayContain(bloom, a)).to.equal(true);
    let hits = 0;
    for (let i = 0; i < 200; i++) if (bloomMayContain(bloom, privateKeyToAccount(generatePrivateKey()).address)) hits++;
    expect(hits).to.be.below(5);
    expect(bloomMayContain(bloomOf([]), inside[0])).to.equal(false);
    expect(bloomMayContain(null, inside[0])).to.equal(true);
  });
});
