// Batch settlement: the happy path with exact arithmetic, netting, partial fills, every fill-level skip
// reason and every batch-level rejection.
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { type Hex, encodeFunctionData, zeroHash } from "viem";
import { BATCH_TYPES, encodeFills } from "../../sdk/eip712";
import {
  BTC,
  DEPOSIT,
  ETH,
  ETH_RATES,
  type Fx,
  SkipReason,
  addr,
  cashOf,
  deployFixture,
  eventsNamed,
  expectRevert,
  fill,
  makeBatch,
  makeOrder,
  positionOf,
  price,
  settle,
  size,
  usd,
} from "./helpers";
import { symbolToBytes32 } from "../../scripts/lib/deployExchange";

describe("Exchange: settlement", () => {
  let fx: Fx;
  beforeEach(async () => {
    fx = await loadFixture(deployFixture);
  });

  /** bob sells 0.5 BTC @ 60,000 (maker), alice buys with limit 60,010 (taker). */
  async function simpleTrade() {
    const maker = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.5") });
    const taker = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60010"), size: size("0.5") });
    return { maker, taker, f: fill(0, 1, size("0.5"), price("60000")) };
  }

  describe("a settled fill", () => {
    it("moves positions, cash and fees exactly (maker rebate, taker fee)", async () => {
      const { maker, taker, f } = await simpleTrade();
      expect(f.makerFee).to.equal(-3_000_000n); // -0.01% of 30,000 USD
      expect(f.takerFee).to.equal(15_000_000n); // 0.05% of 30,000 USD
      const { events } = await settle(fx, [maker, taker], [f]);

      const alice = addr(fx.alice);
      const bob = addr(fx.bob);
      expect(await positionOf(fx, alice)).to.equal(50_000_000n);
      expect(await positionOf(fx, bob)).to.equal(-50_000_000n);
      expect(await cashOf(fx, alice)).to.equal(DEPOSIT - 30_000_000_000n - 15_000_000n);
      expect(await cashOf(fx, bob)).to.equal(DEPOSIT + 30_000_000_000n + 3_000_000n);
      expect(await fx.exchange.read.feesAccrued()).to.equal(12_000_000n);
      expect(await fx.exchange.read.nextBatchNumber()).to.equal(1n);

      const [fs] = eventsNamed(events, "FillSettled");
      expect(fs.args).to.deep.equal({
        batch: 0n,
        maker: bob,
        taker: alice,
        makerOrderHash: maker.hash,
        takerOrderHash: taker.hash,
        market: BTC,
        takerIsBuy: true,
        size: 50_000_000n,
        price: 60_000_000_000n,
        makerFee: -3_000_000n,
        takerFee: 15_000_000n,
      });
      const pcs = eventsNamed(events, "PositionChanged");
      expect(
        pcs.map((e) => [e.args.account, e.args.market, e.args.oldSize, e.args.newSize, e.args.cash]),
      ).to.deep.equal([
        [bob, BTC, 0n, -50_000_000n, DEPOSIT + 30_003_000_000n],
        [alice, BTC, 0n, 50_000_000n, DEPOSIT - 30_015_000_000n],
      ]);
      const [bs] = eventsNamed(events, "BatchSettled");
      expect(bs.args).to.deep.equal({
        batch: 0n,
        settled: 1n,
        skipped: 0n,
        fees: 12_000_000n,
        submitter: addr(fx.keeper),
      });
      const [closed] = await fx.exchange.read.orderState([bob, maker.order.nonce, maker.hash]);
      expect(closed).to.equal(true);
    });

    it("rounds the notional against both sides and books the remainder as fees", async () => {
      // A market with tick 1 and lot 1, so size*price/1e8 is not whole.
      await fx.exchange.write.listMarket([
        symbolToBytes32("FINE-USD"),
        {
          oracle: fx.btcFeed.address,
          maxStaleness: 3600,
          tickSize: 1n,
          lotSize: 1n,
          minSize: 1n,
          imfPpm: 100_000,
          mmfPpm: 50_000,
          makerFeePpm: -77,
          takerFeePpm: 333,
          minPrice: 1n,
          maxPrice: price("1000000"),
        },
      ]);
      const FINE = 2;
      const p = 60_000_123_457n;
      const maker = await makeOrder(fx, fx.bob, { market: FINE, isBuy: true, price: p, size: 12_345n });
      const taker = await makeOrder(fx, fx.alice, { market: FINE, isBuy: false, price: p, size: 12_345n });
      // 12345 * 60000123457 / 1e8 = 7,407,015.24...: buyer pays 7,407,016, seller gets 7,407,015.
      // taker fee cap ceil(7,407,015.24 * 333e-6) = 2,467; maker rebate cap ceil(-570.34) = -570.
      const f = fill(0, 1, 12_345n, p, { maker: -77n, taker: 333n });
      expect([f.makerFee, f.takerFee]).to.deep.equal([-570n, 2_467n]);
      await settle(fx, [maker, taker], [f]);
      expect(await cashOf(fx, addr(fx.bob))).to.equal(DEPOSIT - 7_407_016n + 570n);
      expect(await cashOf(fx, addr(fx.alice))).to.equal(DEPOSIT + 7_407_015n - 2_467n);
      expect(await fx.exchange.read.feesAccrued()).to.equal(2_467n - 570n + 1n);
    });

    it("accepts discounted fees (operator may charge less, never more)", async () => {
      const { maker, taker } = await simpleTrade();
      // Full maker rebate (3 USD), taker charged 5 USD instead of 15.
      await settle(fx, [maker, taker], [fill(0, 1, size("0.5"), price("60000"), undefined, { takerFee: usd("5") })]);
      expect(await fx.exchange.read.feesAccrued()).to.equal(usd("2"));
      expect(await cashOf(fx, addr(fx.alice))).to.equal(DEPOSIT - usd("30005"));
      expect(await cashOf(fx, addr(fx.bob))).to.equal(DEPOSIT + usd("30003"));
      // A larger rebate than the rate is allowed while the fill's fees stay non-negative.
      const m2 = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.5") });
      const t2 = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.5") });
      await settle(
        fx,
        [m2, t2],
        [fill(0, 1, size("0.5"), price("60000"), undefined, { makerFee: -usd("15"), takerFee: usd("15") })],
      );
      expect(await fx.exchange.read.feesAccrued()).to.equal(usd("2"));
    });

    it("fills at any price within both limits (taker price improvement)", async () => {
      const maker = await makeOrder(fx, fx.bob, { isBuy: false, price: price("59990"), size: size("0.5") });
      const taker = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60010"), size: size("0.5") });
      const { events } = await settle(fx, [maker, taker], [fill(0, 1, size("0.5"), price("60010"))]);
      expect(eventsNamed(events, "FillSettled")).to.have.length(1);
      const maker2 = await makeOrder(fx, fx.bob, { isBuy: false, price: price("59990"), size: size("0.5") });
      const taker2 = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60010"), size: size("0.5") });
      const r2 = await settle(fx, [maker2, taker2], [fill(0, 1, size("0.5"), price("59990"))]);
      expect(eventsNamed(r2.events, "FillSettled")).to.have.length(1);
      expect(await positionOf(fx, addr(fx.alice))).to.equal(size("1"));
    });

    it("nets each account once: one position write and event per account and market", async () => {
      const bobSell = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("1") });
      const aliceBuy = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("1") });
      const carolBuy = await makeOrder(fx, fx.carol, { isBuy: true, price: price("60000"), size: size("0.2") });
      const aliceSell = await makeOrder(fx, fx.alice, { isBuy: false, price: price("60000"), size: size("0.3") });
      const daveBuy = await makeOrder(fx, fx.dave, { isBuy: true, price: price("60000"), size: size("0.3") });
      const { events } = await settle(
        fx,
        [bobSell, aliceBuy, carolBuy, aliceSell, daveBuy],
        [
          fill(0, 1, size("0.6"), price("60000")),
          fill(0, 2, size("0.2"), price("60000")),
          fill(0, 1, size("0.2"), price("60000")),
          fill(3, 4, size("0.3"), price("60000")),
        ],
      );
      expect(eventsNamed(events, "FillSettled")).to.have.length(4);
      const pcs = eventsNamed(events, "PositionChanged");
      expect(pcs).to.have.length(4);
      const byAccount = new Map(pcs.map((e) => [e.args.account, e.args.newSize]));
      expect(byAccount.get(addr(fx.alice))).to.equal(size("0.5"));
      expect(byAccount.get(addr(fx.bob))).to.equal(-size("1"));
      expect(byAccount.get(addr(fx.carol))).to.equal(size("0.2"));
      expect(byAccount.get(addr(fx.dave))).to.equal(size("0.3"));
      let sum = 0n;
      for (const w of [fx.alice, fx.bob, fx.carol, fx.dave]) sum += await positionOf(fx, w.account.address);
      expect(sum).to.equal(0n);
    });

    it("tracks partial fills across batches and closes the order when filled", async () => {
      const maker = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("1") });
      const t1 = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.4") });
      await settle(fx, [maker, t1], [fill(0, 1, size("0.4"), price("60000"))]);
      expect(await fx.exchange.read.orderState([addr(fx.bob), maker.order.nonce, maker.hash])).to.deep.equal([
        false,
        size("0.4"),
      ]);
      const t2 = await makeOrder(fx, fx.carol, { isBuy: true, price: price("60000"), size: size("0.5") });
      await settle(fx, [maker, t2], [fill(0, 1, size("0.5"), price("60000"))]);
      expect(await fx.exchange.read.orderState([addr(fx.bob), maker.order.nonce, maker.hash])).to.deep.equal([
        false,
        size("0.9"),
      ]);
      // 0.2 would overfill; 0.1 closes it.
      const t3 = await makeOrder(fx, fx.dave, { isBuy: true, price: price("60000"), size: size("0.2") });
      const r = await settle(
        fx,
        [maker, t3],
        [fill(0, 1, size("0.2"), price("60000")), fill(0, 1, size("0.1"), price("60000"))],
      );
      const [sk] = eventsNamed(r.events, "FillSkipped");
      expect(sk.args).to.deep.equal({ batch: 2n, fillIndex: 0n, reason: SkipReason.Overfill, orderHash: maker.hash });
      expect(await fx.exchange.read.orderState([addr(fx.bob), maker.order.nonce, maker.hash])).to.deep.equal([
        true,
        0n,
      ]);
      expect(await positionOf(fx, addr(fx.bob))).to.equal(-size("1"));
      // The closed order can never fill again.
      const t4 = await makeOrder(fx, fx.dave, { isBuy: true, price: price("60000"), size: size("0.1") });
      const r4 = await settle(fx, [maker, t4], [fill(0, 1, size("0.1"), price("60000"))]);
      expect(eventsNamed(r4.events, "FillSkipped")[0].args.reason).to.equal(SkipReason.OrderClosed);
    });

    it("a fully filled order at the minimum nonce closes by advancing it; others by the bitmap", async () => {
      const bob = addr(fx.bob);
      const m0 = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.1"), nonce: 0n });
      const m2 = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.1"), nonce: 2n });
      const t = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.2") });
      await settle(fx, [m0, m2, t], [fill(0, 2, size("0.1"), price("60000")), fill(1, 2, size("0.1"), price("60000"))]);
      expect((await fx.exchange.read.accountOf([bob]))[1]).to.equal(1n); // nonce 0 closed by advancing
      expect(await fx.exchange.read.orderState([bob, 0n, m0.hash])).to.deep.equal([true, 0n]);
      expect(await fx.exchange.read.orderState([bob, 2n, m2.hash])).to.deep.equal([true, 0n]); // bitmap
      // A partially filled order at the minimum nonce keeps it until it is fully filled.
      const m1 = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.2"), nonce: 1n });
      const t2 = await makeOrder(fx, fx.carol, { isBuy: true, price: price("60000"), size: size("0.2") });
      await settle(fx, [m1, t2], [fill(0, 1, size("0.1"), price("60000"))]);
      expect((await fx.exchange.read.accountOf([bob]))[1]).to.equal(1n);
      expect(await fx.exchange.read.orderState([bob, 1n, m1.hash])).to.deep.equal([false, size("0.1")]);
      await settle(fx, [m1, t2], [fill(0, 1, size("0.1"), price("60000"))]);
      expect((await fx.exchange.read.accountOf([bob]))[1]).to.equal(2n);
      expect(await fx.exchange.read.orderState([bob, 1n, m1.hash])).to.deep.equal([true, 0n]);
      // Replaying any of them is refused.
      const t3 = await makeOrder(fx, fx.dave, { isBuy: true, price: price("60000"), size: size("0.3") });
      const { events } = await settle(
        fx,
        [m0, m1, m2, t3],
        [
          fill(0, 3, size("0.1"), price("60000")),
          fill(1, 3, size("0.1"), price("60000")),
          fill(2, 3, size("0.1"), price("60000")),
        ],
      );
      expect(eventsNamed(events, "FillSkipped").map((e) => e.args.reason)).to.deep.equal([
        SkipReason.Cancelled,
        SkipReason.Cancelled,
        SkipReason.OrderClosed,
      ]);
    });

    it("settles an empty batch (advances the number)", async () => {
      const { events } = await settle(fx, [], []);
      expect(eventsNamed(events, "BatchSettled")[0].args.settled).to.equal(0n);
      expect(await fx.exchange.read.nextBatchNumber()).to.equal(1n);
    });

    it("rejects dirty high bits in an order's or a fill's ABI words (the whole call reverts)", async () => {
      const { maker, taker, f } = await simpleTrade();
      const { batch, signature } = await makeBatch(fx, [maker, taker], [f]);
      const send = (data: Hex) => fx.keeper.sendTransaction({ to: fx.exchange.address, data, gas: 3_000_000n });
      const call = encodeFunctionData({ abi: fx.exchange.abi, functionName: "settle", args: [batch, signature] });
      // The word after the maker order's account is its uint32 market: set bit 32.
      const at = call.indexOf(addr(fx.bob).slice(2).toLowerCase()) + 40;
      const dirtyOrder = (call.slice(0, at + 54) + "01" + call.slice(at + 56)) as Hex;
      let reverted = false;
      await send(dirtyOrder).catch(() => (reverted = true));
      expect(reverted, "dirty order word").to.equal(true);
      // A fill whose uint16 taker word has bit 16 set, signed by the operator as is.
      const clean = encodeFills([f]);
      const dirtyFills = (clean.slice(0, 2 + 64 + 58) + "01" + clean.slice(2 + 64 + 60)) as Hex;
      const opSig = await fx.operator.signTypedData({
        account: fx.operator.account,
        domain: fx.domain,
        types: BATCH_TYPES,
        primaryType: "Batch",
        message: { number: batch.number, deadline: batch.deadline, orders: batch.orders, fills: dirtyFills },
      });
      const call2 = encodeFunctionData({ abi: fx.exchange.abi, functionName: "settle", args: [batch, opSig] });
      const dirtyFill = call2.replace(clean.slice(2), dirtyFills.slice(2)) as Hex;
      expect(dirtyFill).to.not.equal(call2);
      reverted = false;
      await send(dirtyFill).catch(() => (reverted = true));
      expect(reverted, "dirty fill word").to.equal(true);
      // The clean batch with the same operator key settles.
      await fx.exchange.write.settle([batch, signature], { account: fx.keeper.account });
      expect(await positionOf(fx, addr(fx.alice))).to.equal(size("0.5"));
    });

    it("lets anyone submit an operator-signed batch", async () => {
      const { maker, taker, f } = await simpleTrade();
      const { batch, signature } = await makeBatch(fx, [maker, taker], [f]);
      await fx.exchange.write.settle([batch, signature], { account: fx.stranger.account });
      expect(await positionOf(fx, addr(fx.alice))).to.equal(size("0.5"));
    });

    it("accepts a batch signed by any OPERATOR_ROLE key (rotation)", async () => {
      const role = await fx.exchange.read.OPERATOR_ROLE();
      await fx.exchange.write.grantRole([role, addr(fx.carol)]);
      await fx.exchange.write.revokeRole([role, addr(fx.operator)]);
      const { maker, taker, f } = await simpleTrade();
      await expectRevert(settle(fx, [maker, taker], [f]), "NotOperatorSigned", [addr(fx.operator)]);
      await settle(fx, [maker, taker], [f], { signer: fx.carol });
      expect(await positionOf(fx, addr(fx.alice))).to.equal(size("0.5"));
    });
  });

  describe("batch-level rejections (the whole call reverts)", () => {
    it("replayed batch: BatchNumberMismatch", async () => {
      const { maker, taker, f } = await simpleTrade();
      const { batch, signature } = await makeBatch(fx, [maker, taker], [f]);
      await fx.exchange.write.settle([batch, signature]);
      await expectRevert(fx.exchange.write.settle([batch, signature]), "BatchNumberMismatch", [1n, 0n]);
    });

    it("reordered batches: batch 1 before batch 0 is refused", async () => {
      const { maker, taker, f } = await simpleTrade();
      const b0 = await makeBatch(fx, [maker, taker], [f], { number: 0n });
      const b1 = await makeBatch(fx, [], [], { number: 1n });
      await expectRevert(fx.exchange.write.settle([b1.batch, b1.signature]), "BatchNumberMismatch", [0n, 1n]);
      await fx.exchange.write.settle([b0.batch, b0.signature]);
      await fx.exchange.write.settle([b1.batch, b1.signature]);
      expect(await fx.exchange.read.nextBatchNumber()).to.equal(2n);
    });

    it("gapped batch number: BatchNumberMismatch", async () => {
      await expectRevert(settle(fx, [], [], { number: 5n }), "BatchNumberMismatch", [0n, 5n]);
    });

    it("past the deadline: BatchExpired", async () => {
      const now = BigInt(await time.latest());
      const { batch, signature } = await makeBatch(fx, [], [], { deadline: now + 10n });
      await time.increaseTo(now + 20n);
      await expectRevert(fx.exchange.write.settle([batch, signature]), "BatchExpired", [now + 10n, now + 21n]);
    });

    it("not signed by an operator: NotOperatorSigned(signer)", async () => {
      const { maker, taker, f } = await simpleTrade();
      await expectRevert(settle(fx, [maker, taker], [f], { signer: fx.stranger }), "NotOperatorSigned", [
        addr(fx.stranger),
      ]);
    });

    it("operator signature over other contents (tampered fill, order or number) is refused", async () => {
      const { maker, taker, f } = await simpleTrade();
      const { batch, signature } = await makeBatch(fx, [maker, taker], [f]);
      const tamperedFill = { ...batch, fills: [{ ...f, price: price("60010") }] };
      await expectRevert(fx.exchange.write.settle([tamperedFill, signature]), "NotOperatorSigned");
      const tamperedOrder = { ...batch, orders: [batch.orders[0], { ...batch.orders[1], size: size("0.6") }] };
      await expectRevert(fx.exchange.write.settle([tamperedOrder, signature]), "NotOperatorSigned");
      const tamperedDeadline = { ...batch, deadline: batch.deadline + 1n };
      await expectRevert(fx.exchange.write.settle([tamperedDeadline, signature]), "NotOperatorSigned");
      await expectRevert(fx.exchange.write.settle([batch, "0x1234"]), "NotOperatorSigned", [
        "0x0000000000000000000000000000000000000000",
      ]);
    });

    it("operator signature for another chain id or contract is refused", async () => {
      const { maker, taker, f } = await simpleTrade();
      await expectRevert(
        settle(fx, [maker, taker], [f], { domain: { ...fx.domain, chainId: 1 } }),
        "NotOperatorSigned",
      );
      await expectRevert(
        settle(fx, [maker, taker], [f], { domain: { ...fx.domain, verifyingContract: fx.token.address } }),
        "NotOperatorSigned",
      );
    });

    it("signatures and orders of different lengths: BatchLengthMismatch", async () => {
      const { maker, taker, f } = await simpleTrade();
      const { batch, signature } = await makeBatch(fx, [maker, taker], [f]);
      await expectRevert(
        fx.exchange.write.settle([{ ...batch, signatures: [maker.signature] }, signature]),
        "BatchLengthMismatch",
        [2n, 1n],
      );
    });

    it("an account failing its margin check: AccountMarginCheckFailed names it; resubmitting without it works", async () => {
      // alice (100k) buys 20 BTC (1.2M notional, IM 120k) from bob (topped up to 300k).
      await fx.token.write.mint([addr(fx.admin), usd("200000")]);
      await fx.token.write.approve([fx.exchange.address, usd("200000")]);
      await fx.exchange.write.depositFor([addr(fx.bob), usd("200000")]);
      const maker = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("20") });
      const big = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("20") });
      const small = await makeOrder(fx, fx.carol, { isBuy: true, price: price("60000"), size: size("1") });
      const fee = 600_000_000n; // 0.05% of 1.2M
      await expectRevert(
        settle(
          fx,
          [maker, big, small],
          [fill(0, 1, size("20"), price("60000")), fill(0, 2, size("1"), price("60000"))],
        ),
        "AccountMarginCheckFailed",
        [addr(fx.alice), DEPOSIT - fee, usd("120000"), DEPOSIT, DEPOSIT - fee - usd("60000")],
      );
      // The keeper drops alice's fill and re-signs the same batch number.
      await settle(fx, [maker, small], [fill(0, 1, size("1"), price("60000"))]);
      expect(await positionOf(fx, addr(fx.carol))).to.equal(size("1"));
      expect(await positionOf(fx, addr(fx.alice))).to.equal(0n);
    });

    it("below initial margin, a trade that does not add risk passes only if maintenance health does not fall", async () => {
      // ETH (no maker fee, so zero fees are allowed). alice buys 300 ETH @ 3,000 (IM 90k of 100k), then
      // ETH drops to 2,700: equity 10k, IM 81k, MM 40.5k.
      const zero = { makerFee: 0n, takerFee: 0n };
      const m1 = await makeOrder(fx, fx.bob, { market: ETH, isBuy: false, price: price("3000"), size: size("300") });
      const t1 = await makeOrder(fx, fx.alice, { market: ETH, isBuy: true, price: price("3000"), size: size("300") });
      await settle(fx, [m1, t1], [fill(0, 1, size("300"), price("3000"), ETH_RATES, zero)]);
      await fx.ethFeed.write.setAnswer([2_700n * 10n ** 8n]);
      const [equity, im, mm] = await fx.exchange.read.accountHealth([addr(fx.alice)]);
      expect([equity, im, mm]).to.deep.equal([usd("10000"), usd("81000"), usd("40500")]);
      // Selling 10 ETH at 2,500 (below the mark): equity -2,000, MM -1,350: health falls, refused.
      const sell = await makeOrder(fx, fx.alice, { market: ETH, isBuy: false, price: price("2500"), size: size("10") });
      const carolBuy = await makeOrder(fx, fx.carol, {
        market: ETH,
        isBuy: true,
        price: price("2700"),
        size: size("10"),
      });
      await expectRevert(
        settle(fx, [sell, carolBuy], [fill(0, 1, size("10"), price("2500"), ETH_RATES, zero)]),
        "AccountMarginCheckFailed",
        [addr(fx.alice), usd("8000"), usd("78300"), usd("10000") - usd("40500"), usd("8000") - usd("39150")],
      );
      // Selling 10 ETH at the mark: equity unchanged, MM -1,350: accepted though still below IM.
      await settle(fx, [sell, carolBuy], [fill(0, 1, size("10"), price("2700"), ETH_RATES, zero)]);
      expect(await positionOf(fx, addr(fx.alice), ETH)).to.equal(size("290"));
      // Buying more (risk grows) is refused while below IM.
      const more = await makeOrder(fx, fx.alice, { market: ETH, isBuy: true, price: price("2700"), size: size("1") });
      const daveSell = await makeOrder(fx, fx.dave, {
        market: ETH,
        isBuy: false,
        price: price("2700"),
        size: size("1"),
      });
      await expectRevert(
        settle(fx, [daveSell, more], [fill(0, 1, size("1"), price("2700"), ETH_RATES, zero)]),
        "AccountMarginCheckFailed",
      );
    });

    it("a bankrupt account (equity < 0) cannot trade, not even itself flat: liquidation takes its debt", async () => {
      // alice buys 300 ETH @ 3,000 (IM 90k of 100k); ETH falls to 2,600: equity -20k, bankrupt.
      const zero = { makerFee: 0n, takerFee: 0n };
      const m1 = await makeOrder(fx, fx.bob, { market: ETH, isBuy: false, price: price("3000"), size: size("300") });
      const t1 = await makeOrder(fx, fx.alice, { market: ETH, isBuy: true, price: price("3000"), size: size("300") });
      await settle(fx, [m1, t1], [fill(0, 1, size("300"), price("3000"), ETH_RATES, zero)]);
      await fx.ethFeed.write.setAnswer([2_600n * 10n ** 8n]);
      const [equity] = await fx.exchange.read.accountHealth([addr(fx.alice)]);
      expect(equity).to.equal(-usd("20000"));
      // Closing all 300 ETH at the mark would improve maintenance health (-59k -> -20k) but leave -20k cash
      // that nobody covers: refused, naming alice (equity after -20k, no requirement left).
      const close = await makeOrder(fx, fx.alice, {
        market: ETH,
        isBuy: false,
        price: price("2600"),
        size: size("300"),
      });
      const carolBuy = await makeOrder(fx, fx.carol, {
        market: ETH,
        isBuy: true,
        price: price("2600"),
        size: size("300"),
      });
      await expectRevert(
        settle(fx, [close, carolBuy], [fill(0, 1, size("300"), price("2600"), ETH_RATES, zero)]),
        "AccountMarginCheckFailed",
        [addr(fx.alice), -usd("20000"), 0n, -usd("20000") - usd("39000"), -usd("20000")],
      );
      expect(await positionOf(fx, addr(fx.alice), ETH)).to.equal(size("300"));
    });

    it("an account holding a position in a market whose feed is stale: MarkPriceUnavailable(account, market)", async () => {
      const { maker, taker, f } = await simpleTrade();
      await settle(fx, [maker, taker], [f]);
      const now = BigInt(await time.latest());
      await fx.btcFeed.write.setAnswerAt([60_000n * 10n ** 8n, now - 7200n]);
      const ethBuy = await makeOrder(fx, fx.alice, { market: ETH, isBuy: true, price: price("3000"), size: size("1") });
      const ethSell = await makeOrder(fx, fx.carol, {
        market: ETH,
        isBuy: false,
        price: price("3000"),
        size: size("1"),
      });
      await expectRevert(
        settle(fx, [ethSell, ethBuy], [fill(0, 1, size("1"), price("3000"), ETH_RATES)]),
        "MarkPriceUnavailable",
        [addr(fx.alice), BTC],
      );
    });
  });

  describe("fill-level skips (FillSkipped with reason; the rest settles)", () => {
    async function expectSkip(
      orders: Awaited<ReturnType<typeof makeOrder>>[],
      fills: ReturnType<typeof fill>[],
      reason: number,
      culprit: `0x${string}` = zeroHash,
      fillIndex = 0n,
    ) {
      const before = await cashOf(fx, addr(fx.alice));
      const { events } = await settle(fx, orders, fills);
      const sk = eventsNamed(events, "FillSkipped").find((e) => e.args.fillIndex === fillIndex);
      expect(sk, "FillSkipped event").to.not.equal(undefined);
      expect(sk!.args.reason).to.equal(reason);
      expect(sk!.args.orderHash).to.equal(culprit);
      expect(sk!.args.batch).to.equal((await fx.exchange.read.nextBatchNumber()) - 1n);
      if (fills.length === 1) {
        expect(eventsNamed(events, "FillSettled")).to.have.length(0);
        expect(await cashOf(fx, addr(fx.alice))).to.equal(before);
      }
      return events;
    }

    it("one bad fill does not stop the others", async () => {
      const { maker, taker } = await simpleTrade();
      const carol = await makeOrder(fx, fx.carol, { isBuy: true, price: price("60000"), size: size("0.1") });
      const events = await expectSkip(
        [maker, taker, carol],
        [
          fill(0, 1, size("0.3"), price("60000")),
          fill(0, 2, size("0.1"), price("60000.05")),
          fill(0, 2, size("0.1"), price("60000")),
        ],
        SkipReason.PriceNotOnTick,
        zeroHash,
        1n,
      );
      expect(eventsNamed(events, "FillSettled")).to.have.length(2);
      expect(eventsNamed(events, "BatchSettled")[0].args).to.include({ settled: 2n, skipped: 1n });
    });

    it("order index out of range / same order", async () => {
      const { maker, taker } = await simpleTrade();
      await expectSkip([maker, taker], [fill(0, 2, size("0.1"), price("60000"))], SkipReason.OrderIndexOutOfRange);
      await expectSkip([maker, taker], [fill(1, 1, size("0.1"), price("60000"))], SkipReason.SameOrder);
    });

    it("zero account", async () => {
      const { maker, taker } = await simpleTrade();
      const zero = {
        ...taker,
        order: { ...taker.order, account: "0x0000000000000000000000000000000000000000" as const },
      };
      const hash = (await import("../../sdk/eip712")).hashOrder(fx.domain, zero.order);
      await expectSkip([maker, zero], [fill(0, 1, size("0.1"), price("60000"))], SkipReason.InvalidAccount, hash);
    });

    it("expired order", async () => {
      const now = BigInt(await time.latest());
      const maker = await makeOrder(fx, fx.bob, {
        isBuy: false,
        price: price("60000"),
        size: size("1"),
        expiry: now + 5n,
      });
      const taker = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("1") });
      await time.increaseTo(now + 10n);
      await expectSkip([maker, taker], [fill(0, 1, size("1"), price("60000"))], SkipReason.Expired, maker.hash);
    });

    it("cancelled order (cancelOrder) and orders below the minimum nonce (raiseMinNonce)", async () => {
      const { maker, taker } = await simpleTrade();
      await fx.exchange.write.cancelOrder([taker.order], { account: fx.alice.account });
      await expectSkip([maker, taker], [fill(0, 1, size("0.5"), price("60000"))], SkipReason.OrderClosed, taker.hash);
      const t2 = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.5") });
      await fx.exchange.write.raiseMinNonce([addr(fx.alice), t2.order.nonce + 1n], { account: fx.alice.account });
      await expectSkip([maker, t2], [fill(0, 1, size("0.5"), price("60000"))], SkipReason.Cancelled, t2.hash);
    });

    it("the same order twice in a batch", async () => {
      const { maker, taker } = await simpleTrade();
      const events = await expectSkip(
        [maker, taker, taker],
        [fill(0, 1, size("0.5"), price("60000")), fill(0, 2, size("0.5"), price("60000"))],
        SkipReason.DuplicateOrder,
        taker.hash,
        1n,
      );
      expect(eventsNamed(events, "FillSettled")).to.have.length(1);
      expect(await positionOf(fx, addr(fx.alice))).to.equal(size("0.5"));
    });

    it("unknown market and invalid order sizes", async () => {
      const maker = await makeOrder(fx, fx.bob, { market: 7, isBuy: false, price: price("60000"), size: size("1") });
      const taker = await makeOrder(fx, fx.alice, { market: 7, isBuy: true, price: price("60000"), size: size("1") });
      await expectSkip([maker, taker], [fill(0, 1, size("1"), price("60000"))], SkipReason.UnknownMarket, maker.hash);
      const offLot = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.00015") });
      const taker2 = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("1") });
      await expectSkip(
        [offLot, taker2],
        [fill(0, 1, size("0.0001"), price("60000"))],
        SkipReason.InvalidOrderSize,
        offLot.hash,
      );
      const zeroSize = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: 0n });
      await expectSkip(
        [zeroSize, taker2],
        [fill(0, 1, size("0.0001"), price("60000"))],
        SkipReason.InvalidOrderSize,
        zeroSize.hash,
      );
    });

    it("cross-market, same side, self-trade", async () => {
      const btcSell = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("1") });
      const ethBuy = await makeOrder(fx, fx.alice, {
        market: ETH,
        isBuy: true,
        price: price("60000"),
        size: size("1"),
      });
      await expectSkip([btcSell, ethBuy], [fill(0, 1, size("1"), price("60000"))], SkipReason.CrossMarket);
      const btcSell2 = await makeOrder(fx, fx.alice, { isBuy: false, price: price("60000"), size: size("1") });
      await expectSkip([btcSell, btcSell2], [fill(0, 1, size("1"), price("60000"))], SkipReason.SameSide);
      const bobBuy = await makeOrder(fx, fx.bob, { isBuy: true, price: price("60000"), size: size("1") });
      await expectSkip([btcSell, bobBuy], [fill(0, 1, size("1"), price("60000"))], SkipReason.SelfTrade);
    });

    it("price off the tick, zero, or outside either limit", async () => {
      const { maker, taker } = await simpleTrade(); // sell limit 60,000, buy limit 60,010
      await expectSkip([maker, taker], [fill(0, 1, size("0.5"), price("60000.05"))], SkipReason.PriceNotOnTick);
      await expectSkip([maker, taker], [fill(0, 1, size("0.5"), 0n)], SkipReason.PriceNotOnTick);
      await expectSkip(
        [maker, taker],
        [fill(0, 1, size("0.5"), price("59999.9"))],
        SkipReason.PriceOutsideLimit,
        maker.hash,
      );
      await expectSkip(
        [maker, taker],
        [fill(0, 1, size("0.5"), price("60010.1"))],
        SkipReason.PriceOutsideLimit,
        taker.hash,
      );
      // Same with the buyer as maker and the seller as taker.
      await expectSkip(
        [taker, maker],
        [fill(0, 1, size("0.5"), price("60010.1"))],
        SkipReason.PriceOutsideLimit,
        taker.hash,
      );
      await expectSkip(
        [taker, maker],
        [fill(0, 1, size("0.5"), price("59999.9"))],
        SkipReason.PriceOutsideLimit,
        maker.hash,
      );
    });

    it("fill size zero, off the lot, or above what remains", async () => {
      const { maker, taker } = await simpleTrade();
      await expectSkip([maker, taker], [fill(0, 1, 0n, price("60000"))], SkipReason.InvalidFillSize);
      await expectSkip([maker, taker], [fill(0, 1, size("0.00015"), price("60000"))], SkipReason.InvalidFillSize);
      const bigTaker = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60010"), size: size("2") });
      await expectSkip([maker, bigTaker], [fill(0, 1, size("0.6"), price("60000"))], SkipReason.Overfill, maker.hash);
      const bigMaker = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("2") });
      await expectSkip([bigMaker, taker], [fill(0, 1, size("0.6"), price("60000"))], SkipReason.Overfill, taker.hash);
    });

    it("reduce-only orders never grow or flip a position", async () => {
      const ro = await makeOrder(fx, fx.alice, {
        isBuy: false,
        price: price("60000"),
        size: size("1"),
        reduceOnly: true,
      });
      const bobBuy = await makeOrder(fx, fx.bob, { isBuy: true, price: price("60000"), size: size("2") });
      // Flat: a reduce-only sell would open a short.
      await expectSkip([bobBuy, ro], [fill(0, 1, size("0.5"), price("60000"))], SkipReason.ReduceOnly, ro.hash);
      // Long 0.5: a reduce-only sell of 1 would flip.
      const carolSell = await makeOrder(fx, fx.carol, { isBuy: false, price: price("60000"), size: size("0.5") });
      const aliceBuy = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.5") });
      await settle(fx, [carolSell, aliceBuy], [fill(0, 1, size("0.5"), price("60000"))]);
      await expectSkip([bobBuy, ro], [fill(0, 1, size("1"), price("60000"))], SkipReason.ReduceOnly, ro.hash);
      // Reduce-only as maker, buying while short would be checked the same way.
      const roBuy = await makeOrder(fx, fx.dave, {
        isBuy: true,
        price: price("60000"),
        size: size("1"),
        reduceOnly: true,
      });
      const bobSell = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("1") });
      await expectSkip([roBuy, bobSell], [fill(0, 1, size("0.1"), price("60000"))], SkipReason.ReduceOnly, roBuy.hash);
      // Within the position: fine, and a second fill in the same batch sees the reduced position.
      const { events } = await settle(
        fx,
        [bobBuy, ro],
        [
          fill(0, 1, size("0.3"), price("60000")),
          fill(0, 1, size("0.2"), price("60000")),
          fill(0, 1, size("0.1"), price("60000")),
        ],
      );
      expect(eventsNamed(events, "FillSettled")).to.have.length(2);
      expect(eventsNamed(events, "FillSkipped")[0].args).to.include({ fillIndex: 2n, reason: SkipReason.ReduceOnly });
      expect(await positionOf(fx, addr(fx.alice))).to.equal(0n);
    });

    it("fees above the market rate, or a fill whose fees are net negative", async () => {
      const { maker, taker } = await simpleTrade();
      const f = fill(0, 1, size("0.5"), price("60000"));
      await expectSkip([maker, taker], [{ ...f, takerFee: f.takerFee + 1n }], SkipReason.FeeTooHigh, taker.hash);
      // A smaller rebate than the maker rate is an overcharge too.
      await expectSkip([maker, taker], [{ ...f, makerFee: f.makerFee + 1n }], SkipReason.FeeTooHigh, maker.hash);
      await expectSkip([maker, taker], [{ ...f, makerFee: -usd("20"), takerFee: usd("15") }], SkipReason.NegativeFees);
    });

    it("stale, broken or out-of-bounds oracle", async () => {
      const { maker, taker } = await simpleTrade();
      const f = fill(0, 1, size("0.5"), price("60000"));
      const now = BigInt(await time.latest());
      await fx.btcFeed.write.setAnswerAt([60_000n * 10n ** 8n, now - 3601n]);
      await expectSkip([maker, taker], [f], SkipReason.OracleUnavailable);
      await fx.btcFeed.write.setAnswer([500n * 10n ** 8n]); // below minPrice 1,000
      await expectSkip([maker, taker], [f], SkipReason.OracleUnavailable);
      await fx.btcFeed.write.setAnswer([-1n]);
      await expectSkip([maker, taker], [f], SkipReason.OracleUnavailable);
      await fx.btcFeed.write.setAnswer([60_000n * 10n ** 8n]);
      await fx.btcFeed.write.setBroken([true]);
      await expectSkip([maker, taker], [f], SkipReason.OracleUnavailable);
      await fx.btcFeed.write.setBroken([false]);
      await settle(fx, [maker, taker], [f]);
      expect(await positionOf(fx, addr(fx.alice))).to.equal(size("0.5"));
    });
  });
});
