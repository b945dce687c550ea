// settlePacked(bytes): the packed encoding of a batch (sdk/settlePacked.ts) settles exactly as settle(Batch,
// bytes) does (same events, same state, same reverts; fast-check over random batches with every kind of bad
// order and fill), its payload is decoded bounds-checked (truncated, overlong and malformed payloads revert
// with a Packed* error), and the batch-level checks (operator signature, chained number, deadline, pause) hold.
import { expect } from "chai";
import hre from "hardhat";
import fc from "fast-check";
import { loadFixture, takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import { type Hex, type Log, concat, getAddress, size as byteSize, toHex } from "viem";
import { type Batch, type Fill, signBatch } from "../../sdk/eip712";
import {
  PACKED_FILL_BYTES,
  PACKED_HEADER_BYTES,
  PACKED_ORDER_BYTES,
  decodeSettlePackedPayload,
  encodeSettlePacked,
  encodeSettlePackedPayload,
  settlePackedCalldataBytes,
} from "../../sdk/settlePacked";
import {
  BTC,
  ETH,
  ETH_RATES,
  type Fx,
  type SignedOrder,
  SkipReason,
  addr,
  chainNow,
  decodeEvents,
  deployFixture,
  eventsNamed,
  expectRevert,
  fill,
  makeBatch,
  makeOrder,
  price,
  settle,
  size,
  usd,
} from "./helpers";

/** Submits the batch through settlePacked with the sdk's full calldata (from `keeper`). */
async function settlePacked(fx: Fx, batch: Batch, signature: Hex) {
  const data = encodeSettlePacked(batch, signature);
  expect(byteSize(data)).to.equal(settlePackedCalldataBytes(batch.signatures, batch.fills.length));
  const hash = await fx.keeper.sendTransaction({ to: fx.exchange.address, data, account: fx.keeper.account });
  const receipt = await fx.publicClient.waitForTransactionReceipt({ hash });
  return { receipt, events: decodeEvents(fx, receipt.logs), gasUsed: receipt.gasUsed };
}

/** Submits a raw payload through the ABI of settlePacked (so reverts decode with the Exchange's errors). */
function sendPayload(fx: Fx, payload: Hex) {
  return fx.exchange.write.settlePacked([payload], { account: fx.keeper.account });
}

/** Replaces `bytes` bytes at byte offset `at` of a payload. */
function patch(payload: Hex, at: number, value: Hex): Hex {
  const h = payload.slice(2);
  const v = value.slice(2);
  return `0x${h.slice(0, 2 * at)}${v}${h.slice(2 * at + v.length)}`;
}

describe("Exchange: settlePacked", () => {
  let fx: Fx;
  beforeEach(async () => {
    fx = await loadFixture(deployFixture);
  });

  async function simpleBatch(): Promise<{ batch: Batch; signature: Hex; maker: SignedOrder; taker: SignedOrder }> {
    const maker = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.5") });
    const taker = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60010"), size: size("0.5") });
    const { batch, signature } = await makeBatch(fx, [maker, taker], [fill(0, 1, size("0.5"), price("60000"))]);
    return { batch, signature, maker, taker };
  }

  /** Everything settlement can change for these accounts and orders. */
  async function stateOf(accounts: readonly Hex[], orders: readonly SignedOrder[]) {
    const out: unknown[] = [
      await fx.exchange.read.feesAccrued(),
      await fx.exchange.read.nextBatchNumber(),
      await fx.ext.read.openInterest([BTC]),
      await fx.ext.read.openInterest([ETH]),
    ];
    for (const a of accounts) {
      out.push(await fx.exchange.read.accountOf([a]));
      for (const m of [BTC, ETH]) out.push(await fx.exchange.read.positionOf([a, m]));
    }
    for (const o of orders) out.push(await fx.exchange.read.orderState([o.order.account, o.order.nonce, o.hash]));
    return out;
  }

  const rawLogs = (logs: Log[]) => logs.map((l) => [l.address, l.topics, l.data]);

  /** Outcome of a submission: the raw logs and state, or the revert's error name and arguments. */
  async function outcome(p: () => Promise<{ receipt: { logs: Log[] } }>, accounts: Hex[], orders: SignedOrder[]) {
    try {
      const { receipt } = await p();
      return { logs: rawLogs(receipt.logs), state: await stateOf(accounts, orders) };
    } catch (e) {
      const msg = String((e as { details?: string }).details ?? (e as Error).message);
      const m = /reverted with custom error '([^']*)'/.exec(msg) ?? /reverted with reason string '([^']*)'/.exec(msg);
      return { reverted: m ? m[1] : msg.split("\n")[0], state: await stateOf(accounts, orders) };
    }
  }

  describe("equivalence with settle", () => {
    it("the same batch settles with the same events and state either way", async () => {
      const { batch, signature, maker, taker } = await simpleBatch();
      const accounts = [addr(fx.alice), addr(fx.bob)];
      const snap = await takeSnapshot();
      const viaAbi = await outcome(
        async () => {
          const hash = await fx.exchange.write.settle([batch, signature], { account: fx.keeper.account });
          return { receipt: await fx.publicClient.waitForTransactionReceipt({ hash }) };
        },
        accounts,
        [maker, taker],
      );
      await snap.restore();
      const viaPacked = await outcome(() => settlePacked(fx, batch, signature), accounts, [maker, taker]);
      expect(viaAbi.reverted).to.equal(undefined);
      expect(viaPacked).to.deep.equal(viaAbi);
      const events = decodeEvents(
        fx,
        viaPacked.logs!.map(([address, topics, data]) => ({ address, topics, data })) as Log[],
      );
      expect(eventsNamed(events, "FillSettled")).to.have.length(1);
      expect(eventsNamed(events, "BatchSettled")[0].args.submitter).to.equal(addr(fx.keeper));
    });

    it("random batches (bad orders, bad fills, failing accounts): same events, state or revert (fast-check)", async () => {
      const wallets = [fx.alice, fx.bob, fx.carol, fx.dave];
      const accounts = wallets.map(addr);
      // Steady state: everyone has traded once (positions open, funding indices in place).
      {
        const a = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.1") });
        const b = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.1") });
        const c = await makeOrder(fx, fx.carol, { market: ETH, isBuy: true, price: price("3000"), size: size("1") });
        const d = await makeOrder(fx, fx.dave, { market: ETH, isBuy: false, price: price("3000"), size: size("1") });
        await settle(
          fx,
          [a, b, c, d],
          [fill(0, 1, size("0.1"), price("60000")), fill(2, 3, size("1"), price("3000"), ETH_RATES)],
        );
      }
      const start = await takeSnapshot();
      // Pairs of a sell (maker) and a buy (taker) that cross, each with fills between them, and at most one
      // fault per pair (most pairs have none): every skip reason the fast path can meet, and failing accounts.
      const FAULTS = ["badSig", "expired", "unknownMarket", "reduceOnly", "feeTooHigh", "negativeFees", "outOfRange"];
      const FAULTS2 = ["selfTrade", "whale", "duplicate", "overfill", "offTick", "sameSide", "crossIndex"];
      const pairArb = fc.record({
        market: fc.constantFrom(BTC, ETH),
        maker: fc.nat({ max: 3 }),
        takerOffset: fc.integer({ min: 1, max: 3 }),
        makerTicks: fc.nat({ max: 3 }),
        takerTicks: fc.nat({ max: 3 }),
        lots: fc.integer({ min: 1, max: 40 }),
        fills: fc.array(fc.record({ lots: fc.integer({ min: 1, max: 20 }), ticks: fc.integer({ min: -1, max: 1 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        fault: fc.integer({ min: 0, max: 3 * (FAULTS.length + FAULTS2.length) - 1 }),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(pairArb, { minLength: 0, maxLength: 5 }), async (pairs) => {
          await start.restore();
          const now = await chainNow();
          const orders: SignedOrder[] = [];
          const fills: Fill[] = [];
          for (const p of pairs) {
            const fault = [...FAULTS, ...FAULTS2][p.fault] ?? "none";
            const base = p.market === ETH ? price("3000") : price("60000");
            const tick = p.market === ETH ? price("0.01") : price("0.1");
            const lot = (p.market === ETH ? size("0.001") : size("0.0001")) * (fault === "whale" ? 20_000n : 10n);
            const rates = p.market === ETH ? ETH_RATES : undefined;
            const who = [p.maker, fault === "selfTrade" ? p.maker : (p.maker + p.takerOffset) % 4];
            const m = await makeOrder(fx, fault === "badSig" ? fx.stranger : wallets[who[0]], {
              account: accounts[who[0]],
              market: fault === "unknownMarket" ? 7 : p.market,
              isBuy: false,
              price: base - BigInt(p.makerTicks) * tick * 10n,
              size: BigInt(p.lots) * lot,
            });
            const t = await makeOrder(fx, wallets[who[1]], {
              market: p.market,
              isBuy: fault !== "sameSide",
              reduceOnly: fault === "reduceOnly",
              price: base + BigInt(p.takerTicks) * tick * 10n,
              size: BigInt(p.lots) * lot,
              expiry: fault === "expired" ? now - 1n : now + 3600n,
            });
            const mi = orders.length;
            orders.push(m, t);
            if (fault === "duplicate") orders.push(m);
            for (const f of p.fills) {
              const fillSize = BigInt(f.lots) * lot * (fault === "overfill" ? 3n : 1n);
              const x = fill(
                fault === "outOfRange" ? 60_000 : mi,
                fault === "crossIndex" ? 0 : mi + 1,
                fillSize,
                base + BigInt(f.ticks) * tick * 10n + (fault === "offTick" ? 1n : 0n),
                rates,
              );
              const bump = fault === "feeTooHigh" ? 1n : fault === "negativeFees" ? -(10n ** 12n) : 0n;
              fills.push({ ...x, takerFee: x.takerFee + bump });
            }
            if (fault === "duplicate") fills.push(fill(orders.length - 1, mi + 1, lot, base, rates));
          }
          const { batch, signature } = await makeBatch(fx, orders, fills, { deadline: now + 600n });
          const viaAbi = await outcome(
            async () => {
              const hash = await fx.exchange.write.settle([batch, signature], { account: fx.keeper.account });
              return { receipt: await fx.publicClient.waitForTransactionReceipt({ hash }) };
            },
            accounts,
            orders,
          );
          await start.restore();
          const viaPacked = await outcome(() => settlePacked(fx, batch, signature), accounts, orders);
          expect(viaPacked).to.deep.equal(viaAbi);
        }),
        { numRuns: Number(process.env.FC_RUNS ?? 40) },
      );
    });

    it("ERC-1271 wallets (the owner's signature; a wallet that burns its gas): the same as settle", async () => {
      const wallets = [];
      for (const hog of [false, true]) {
        const w = await hre.viem.deployContract("MockERC1271Wallet", [addr(fx.carol)]);
        await fx.token.write.mint([addr(fx.admin), usd("100000")]);
        await fx.token.write.approve([fx.exchange.address, usd("100000")]);
        await fx.exchange.write.depositFor([w.address, usd("100000")]);
        if (hog) await w.write.setGasHog([true]);
        wallets.push(getAddress(w.address));
      }
      const spec = { isBuy: true, price: price("60000"), size: size("0.5") };
      const orders = [
        await makeOrder(fx, fx.bob, { ...spec, isBuy: false, size: size("1") }),
        await makeOrder(fx, fx.carol, { ...spec, account: wallets[0] }),
        await makeOrder(fx, fx.carol, { ...spec, account: wallets[1] }),
      ];
      const fills = [fill(0, 1, size("0.5"), price("60000")), fill(0, 2, size("0.5"), price("60000"))];
      const { batch, signature } = await makeBatch(fx, orders, fills);
      const accounts = [addr(fx.bob), ...wallets];
      const snap = await takeSnapshot();
      const viaAbi = await outcome(
        async () => {
          const hash = await fx.exchange.write.settle([batch, signature], { account: fx.keeper.account });
          return { receipt: await fx.publicClient.waitForTransactionReceipt({ hash }) };
        },
        accounts,
        orders,
      );
      await snap.restore();
      const viaPacked = await outcome(() => settlePacked(fx, batch, signature), accounts, orders);
      expect(viaPacked).to.deep.equal(viaAbi);
      const events = decodeEvents(
        fx,
        viaPacked.logs!.map(([address, topics, data]) => ({ address, topics, data })) as Log[],
      );
      expect(eventsNamed(events, "FillSettled").map((e) => e.args.taker)).to.deep.equal([wallets[0]]);
      expect(eventsNamed(events, "FillSkipped").map((e) => e.args.reason)).to.deep.equal([SkipReason.BadSignature]);
    });

    it("a fill index beyond the batch is a skipped fill (OrderIndexOutOfRange), as in settle", async () => {
      const maker = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.5") });
      const taker = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60010"), size: size("0.5") });
      const fills = [
        fill(0, 1, size("0.1"), price("60000")),
        fill(0, 2, size("0.1"), price("60000")),
        fill(65_535, 1, size("0.1"), price("60000")),
        fill(0, 1, size("0.1"), price("60000")),
      ];
      const { batch, signature } = await makeBatch(fx, [maker, taker], fills);
      const { events } = await settlePacked(fx, batch, signature);
      const skipped = eventsNamed(events, "FillSkipped").map((e) => [e.args.fillIndex, e.args.reason]);
      expect(skipped).to.deep.equal([
        [1n, SkipReason.OrderIndexOutOfRange],
        [2n, SkipReason.OrderIndexOutOfRange],
      ]);
      expect(eventsNamed(events, "FillSettled")).to.have.length(2);
    });

    it("an empty batch (no orders, no fills) only advances the batch number", async () => {
      const { batch, signature } = await makeBatch(fx, [], []);
      const { events } = await settlePacked(fx, batch, signature);
      expect(events.map((e) => e.eventName)).to.deep.equal(["BatchSettled"]);
      expect(await fx.exchange.read.nextBatchNumber()).to.equal(1n);
    });

    it("signatures of other lengths (empty, 64 bytes, 66 bytes) are encoded as given and refused per order", async () => {
      const { batch, signature } = await simpleBatch();
      for (const bad of ["0x", batch.signatures[0].slice(0, 130), `${batch.signatures[0]}00`] as Hex[]) {
        const snap = await takeSnapshot();
        const b = { ...batch, signatures: [bad, batch.signatures[1]] };
        const { events } = await settlePacked(fx, b, signature);
        const [skip] = eventsNamed(events, "FillSkipped");
        expect(skip.args.reason).to.equal(SkipReason.BadSignature);
        await snap.restore();
      }
    });
  });

  describe("malformed payloads revert with the error that names the fault", () => {
    it("shorter than the header", async () => {
      await expectRevert(sendPayload(fx, "0x"), "PackedBatchTruncated", [0n, 87n]);
      await expectRevert(sendPayload(fx, toHex(new Uint8Array(86))), "PackedBatchTruncated", [86n, 87n]);
    });

    it("truncated: the last byte of the last signature missing", async () => {
      const { batch, signature } = await simpleBatch();
      const p = encodeSettlePackedPayload(batch, signature);
      const len = BigInt(byteSize(p));
      await expectRevert(sendPayload(fx, p.slice(0, -2) as Hex), "PackedSignatureTruncated", [1n, 65n, len, len - 1n]);
    });

    it("truncated inside the orders, the fills or the signature lengths", async () => {
      const { batch, signature } = await simpleBatch();
      const p = encodeSettlePackedPayload(batch, signature);
      const fixed = PACKED_HEADER_BYTES + 2 * (PACKED_ORDER_BYTES + 2) + PACKED_FILL_BYTES;
      for (const cut of [
        PACKED_HEADER_BYTES,
        PACKED_HEADER_BYTES + 60,
        PACKED_HEADER_BYTES + 2 * PACKED_ORDER_BYTES + 10,
      ]) {
        await expectRevert(sendPayload(fx, p.slice(0, 2 + 2 * cut) as Hex), "PackedBatchTruncated", [
          BigInt(cut),
          BigInt(fixed),
        ]);
      }
    });

    it("trailing bytes after the last signature", async () => {
      const { batch, signature } = await simpleBatch();
      const p = encodeSettlePackedPayload(batch, signature);
      const len = BigInt(byteSize(p));
      await expectRevert(sendPayload(fx, concat([p, "0x00"])), "PackedBatchTrailingBytes", [len + 1n, len]);
      await expectRevert(sendPayload(fx, concat([p, "0x0000"])), "PackedBatchTrailingBytes", [len + 2n, len]);
    });

    it("counts that do not match the bytes: more or fewer orders or fills than the payload holds", async () => {
      const { batch, signature } = await simpleBatch();
      const p = encodeSettlePackedPayload(batch, signature);
      const len = BigInt(byteSize(p));
      // order count 5 (2 encoded): the fixed part is longer than the payload
      const fixed5 = BigInt(PACKED_HEADER_BYTES + 5 * (PACKED_ORDER_BYTES + 2) + PACKED_FILL_BYTES);
      await expectRevert(sendPayload(fx, patch(p, 16, "0x000005")), "PackedBatchTruncated", [len, fixed5]);
      // order count 3: the fixed part fits, the third "order" is the fill and a signature: its flags byte
      // (byte 24 of it) is the 0xff of the negative maker fee
      await expectRevert(sendPayload(fx, patch(p, 16, "0x000003")), "PackedOrderFlagsInvalid", [2n, 0xffn]);
      // fill count 1000
      const fixedF = BigInt(PACKED_HEADER_BYTES + 2 * (PACKED_ORDER_BYTES + 2) + 1000 * PACKED_FILL_BYTES);
      await expectRevert(sendPayload(fx, patch(p, 19, "0x0003e8")), "PackedBatchTruncated", [len, fixedF]);
      // fill count 0: the fill's 36 bytes are read as signature lengths and signatures, which then do not end
      // where the payload does (never a different batch: and the operator signature no longer matches)
      const r = sendPayload(fx, patch(p, 19, "0x000000"));
      await expectRevert(r, "NotOperatorSigned");
      // order count 1 with the same bytes: misaligned fills; the operator signature does not cover it
      await expectRevert(sendPayload(fx, patch(p, 16, "0x000001")), "NotOperatorSigned");
    });

    it("a signature length past the end, or shorter than the bytes that follow", async () => {
      const { batch, signature } = await simpleBatch();
      const p = encodeSettlePackedPayload(batch, signature);
      const len = BigInt(byteSize(p));
      const sig0 = PACKED_HEADER_BYTES + 2 * PACKED_ORDER_BYTES + PACKED_FILL_BYTES;
      // first signature claims 0xffff bytes
      await expectRevert(sendPayload(fx, patch(p, sig0, "0xffff")), "PackedSignatureTruncated", [
        0n,
        0xffffn,
        BigInt(sig0 + 2 + 0xffff),
        len,
      ]);
      // last signature claims 64 bytes: one byte left over
      const sig1 = sig0 + 2 + 65;
      await expectRevert(sendPayload(fx, patch(p, sig1, "0x0040")), "PackedBatchTrailingBytes", [len, len - 1n]);
      // first signature claims 66 bytes: the second length is read one byte late, and runs past the end
      const r = sendPayload(fx, patch(p, sig0, "0x0042"));
      await expectRevert(r, "PackedSignatureTruncated");
    });

    it("an order flags byte other than 0..3", async () => {
      const { batch, signature } = await simpleBatch();
      const p = encodeSettlePackedPayload(batch, signature);
      const flags1 = PACKED_HEADER_BYTES + PACKED_ORDER_BYTES + 24; // order 1: account 20, market 4
      expect(p.slice(2 + 2 * flags1, 4 + 2 * flags1)).to.equal("01"); // the taker buys
      for (const [v, n] of [
        ["0x04", 4n],
        ["0x81", 0x81n],
        ["0xff", 0xffn],
      ] as const) {
        await expectRevert(sendPayload(fx, patch(p, flags1, v)), "PackedOrderFlagsInvalid", [1n, n]);
      }
    });

    it("nothing changes on a rejected payload, and the well-formed one then settles", async () => {
      const { batch, signature } = await simpleBatch();
      const p = encodeSettlePackedPayload(batch, signature);
      await expectRevert(sendPayload(fx, concat([p, "0x01"])), "PackedBatchTrailingBytes");
      expect(await fx.exchange.read.nextBatchNumber()).to.equal(0n);
      await sendPayload(fx, p);
      expect(await fx.exchange.read.nextBatchNumber()).to.equal(1n);
      expect(decodeSettlePackedPayload(p)).to.deep.equal({ batch, operatorSignature: signature });
    });
  });

  describe("batch-level checks on the packed path", () => {
    it("operator signature: another signer, another domain, or tampered orders or fills", async () => {
      const { batch, signature } = await simpleBatch();
      const bySomeoneElse = await signBatch(fx.stranger, fx.domain, batch);
      await expectRevert(sendPayload(fx, encodeSettlePackedPayload(batch, bySomeoneElse)), "NotOperatorSigned", [
        addr(fx.stranger),
      ]);
      const otherDomain = await signBatch(fx.operator, { ...fx.domain, chainId: 1 }, batch);
      await expectRevert(sendPayload(fx, encodeSettlePackedPayload(batch, otherDomain)), "NotOperatorSigned");
      const tamperedFill = { ...batch, fills: [{ ...batch.fills[0], size: batch.fills[0].size / 2n }] };
      await expectRevert(sendPayload(fx, encodeSettlePackedPayload(tamperedFill, signature)), "NotOperatorSigned");
      const tamperedFee = { ...batch, fills: [{ ...batch.fills[0], makerFee: batch.fills[0].makerFee + 1n }] };
      await expectRevert(sendPayload(fx, encodeSettlePackedPayload(tamperedFee, signature)), "NotOperatorSigned");
      const tamperedOrder = { ...batch, orders: [{ ...batch.orders[0], reduceOnly: true }, batch.orders[1]] };
      await expectRevert(sendPayload(fx, encodeSettlePackedPayload(tamperedOrder, signature)), "NotOperatorSigned");
      const tamperedDeadline = { ...batch, deadline: batch.deadline + 1n };
      await expectRevert(sendPayload(fx, encodeSettlePackedPayload(tamperedDeadline, signature)), "NotOperatorSigned");
      // a flipped bit in the operator signature's s
      const p = encodeSettlePackedPayload(batch, signature);
      await expectRevert(
        sendPayload(fx, patch(p, 22 + 40, p.slice(2 + 124, 2 + 126) === "00" ? "0x01" : "0x00")),
        "NotOperatorSigned",
      );
    });

    it("replay and reordering: numbers chain across both entry points", async () => {
      const { batch, signature } = await simpleBatch();
      const p = encodeSettlePackedPayload(batch, signature);
      await sendPayload(fx, p);
      await expectRevert(sendPayload(fx, p), "BatchNumberMismatch", [1n, 0n]);
      await expectRevert(
        fx.exchange.write.settle([batch, signature], { account: fx.keeper.account }),
        "BatchNumberMismatch",
        [1n, 0n],
      );
      // batch 2 before batch 1
      const m = await makeOrder(fx, fx.carol, { isBuy: false, price: price("60000"), size: size("0.1") });
      const t = await makeOrder(fx, fx.dave, { isBuy: true, price: price("60000"), size: size("0.1") });
      const b2 = await makeBatch(fx, [m, t], [fill(0, 1, size("0.1"), price("60000"))], { number: 2n });
      await expectRevert(sendPayload(fx, encodeSettlePackedPayload(b2.batch, b2.signature)), "BatchNumberMismatch", [
        1n,
        2n,
      ]);
      const b1 = await makeBatch(fx, [m, t], [fill(0, 1, size("0.05"), price("60000"))], { number: 1n });
      await fx.exchange.write.settle([b1.batch, b1.signature], { account: fx.keeper.account });
      await sendPayload(fx, encodeSettlePackedPayload(b2.batch, b2.signature));
      expect(await fx.exchange.read.nextBatchNumber()).to.equal(3n);
      // the same orders: 0.05 + 0.1 > 0.1, so batch 2's fill was an overfill (skipped)
      expect(await fx.exchange.read.positionOf([addr(fx.dave), BTC])).to.equal(size("0.05"));
    });

    it("past its deadline: BatchExpired", async () => {
      const maker = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.5") });
      const taker = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.5") });
      const deadline = (await chainNow()) + 10n;
      const { batch, signature } = await makeBatch(fx, [maker, taker], [fill(0, 1, size("0.5"), price("60000"))], {
        deadline,
      });
      await time.increaseTo(deadline); // the next block (the transaction's) is one second later
      await expectRevert(sendPayload(fx, encodeSettlePackedPayload(batch, signature)), "BatchExpired", [
        deadline,
        deadline + 1n,
      ]);
    });

    it("paused by the guardian: ExchangePaused", async () => {
      const { batch, signature } = await simpleBatch();
      await fx.ext.write.pause({ account: fx.guardian.account });
      await expectRevert(sendPayload(fx, encodeSettlePackedPayload(batch, signature)), "ExchangePaused");
    });

    it("an account failing its margin check: AccountMarginCheckFailed, as in settle", async () => {
      // alice buys 20 BTC (1.2M notional) on 100k: far below initial margin
      const maker = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("20") });
      const taker = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("20") });
      const { batch, signature } = await makeBatch(fx, [maker, taker], [fill(0, 1, size("20"), price("60000"))]);
      await expectRevert(sendPayload(fx, encodeSettlePackedPayload(batch, signature)), "AccountMarginCheckFailed");
    });
  });
});
