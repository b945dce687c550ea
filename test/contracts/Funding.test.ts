// Funding (contracts/exchange/{Funding,FundingUpdates}.sol, the settlement hot path): updateFunding's role,
// clamps, accrual and oracle checks; exact lazy settlement in settle (rounding against the payer on both
// sides, side flips, positions loaded but not traded, positions outside the batch), in the margin check, in
// withdrawals and in the views; the internal API (_applyPositionChange, _settleFunding, _socializeLoss) on
// the module alone; and open interest == sum of long sizes under random batches (fast-check).
import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { type Address, getAddress, parseEventLogs } from "viem";
import {
  BTC,
  BTC_RATES,
  ETH,
  ETH_RATES,
  type Fx,
  addr,
  cashOf,
  deployFixture,
  eventsNamed,
  expectRevert,
  fastWithdraw,
  fill,
  makeBatch,
  makeOrder,
  positionOf,
  price,
  sent,
  settle,
  size,
  usd,
} from "./helpers";
import {
  DEFAULT_FUNDING_PARAMS,
  type MarketFunding,
  applyFundingUpdate,
  fundingOwed,
  pendingFunding,
  socialLossDelta,
} from "../../sdk/funding";
import {
  type AccountState,
  type MarketRisk,
  buyerPays,
  equity,
  feeCap,
  initialRequirement,
  maintenanceRequirement,
  sellerReceives,
} from "../../sdk/margin";

const HOUR = 3_600n;
const P = price("60000");
const EP = price("3000");
const RISKS = new Map<number, MarketRisk>([
  [BTC, { imfPpm: 100_000n, mmfPpm: 50_000n }],
  [ETH, { imfPpm: 100_000n, mmfPpm: 50_000n }],
]);

/** Sets `market`'s feed (8 decimals) to a 6-decimal price, stamped now. */
async function setMark(fx: Fx, market: number, p: bigint) {
  await (market === BTC ? fx.btcFeed : fx.ethFeed).write.setAnswer([p * 100n]);
}

/** Moves time forward and restamps both feeds at their current answers (so they are not stale). */
async function advance(fx: Fx, seconds: bigint) {
  await time.increase(seconds);
  for (const feed of [fx.btcFeed, fx.ethFeed]) await feed.write.setAnswer([await feed.read.answer()]);
}

async function fundingOf(fx: Fx, market = BTC): Promise<MarketFunding> {
  const [longIndex, shortIndex, lastRate, lastTime, lastMark] = await fx.ext.read.fundingState([market]);
  return { longIndex, shortIndex, lastRate, lastTime, lastMark };
}

/** Args of the extension events named `name` in `events` (decoded with the extension ABI by `sent`). */
function extArgs(events: readonly { eventName: string; args: unknown }[], name: string): Record<string, unknown>[] {
  return events.filter((e) => e.eventName === name).map((e) => e.args as Record<string, unknown>);
}

/** updateFunding by the fixture's FUNDING_ROLE holder (the EOA admin); returns its block time and events. */
async function update(fx: Fx, rate: bigint, market = BTC) {
  const r = await sent(fx, await fx.ext.write.updateFunding([market, rate], { account: fx.admin.account }));
  const block = await fx.publicClient.getBlock({ blockNumber: r.receipt.blockNumber });
  return { ...r, timestamp: block.timestamp };
}

/** `long` buys `sz` from `short` at `p`: maker (short) fee at its cap (a rebate on BTC), taker pays its cap. */
async function trade(fx: Fx, long: Fx["alice"], short: Fx["alice"], sz: bigint, p = P, market = BTC) {
  const m = await makeOrder(fx, short, { market, isBuy: false, price: p, size: sz });
  const t = await makeOrder(fx, long, { market, isBuy: true, price: p, size: sz });
  const r = await settle(fx, [m, t], [fill(0, 1, sz, p, market === BTC ? BTC_RATES : ETH_RATES)]);
  expect(eventsNamed(r.events, "FillSettled")).to.have.length(1);
  return r;
}

/** Cash effect of one fill at full fees (helpers.fill) for the buyer and the seller. */
function fillCash(sz: bigint, p: bigint, market = BTC) {
  const rates = market === BTC ? BTC_RATES : ETH_RATES;
  return {
    buyer: -buyerPays(sz, p) - feeCap(sz, p, rates.taker),
    seller: sellerReceives(sz, p) - feeCap(sz, p, rates.maker),
  };
}

/** Alice long 1 BTC, bob short 1 BTC at 60,000; funding clock started at rate `rate`. */
async function longShortFixture() {
  const fx = await deployFixture();
  await trade(fx, fx.alice, fx.bob, size("1"));
  return fx;
}

describe("Funding", () => {
  describe("updateFunding", () => {
    it("FUNDING_ROLE only; setFundingParams DEFAULT_ADMIN_ROLE only", async () => {
      const fx = await loadFixture(deployFixture);
      const role = await fx.exchange.read.FUNDING_ROLE();
      for (const w of [fx.operator, fx.treasurer, fx.alice, fx.stranger, fx.keeper, fx.wallets[9]]) {
        await expectRevert(
          fx.ext.write.updateFunding([BTC, 1n], { account: w.account }),
          "AccessControlUnauthorizedAccount",
          [addr(w), role],
        );
      }
      await fx.exchange.write.grantRole([role, addr(fx.stranger)], { account: fx.admin.account });
      await fx.ext.write.updateFunding([BTC, 1n], { account: fx.stranger.account });
      await fx.exchange.write.revokeRole([role, addr(fx.stranger)], { account: fx.admin.account });
      await expectRevert(
        fx.ext.write.updateFunding([BTC, 1n], { account: fx.stranger.account }),
        "AccessControlUnauthorizedAccount",
      );
      // A FUNDING_ROLE key cannot change the bounds it is clamped by.
      await fx.exchange.write.grantRole([role, addr(fx.carol)], { account: fx.admin.account });
      const adminRole = await fx.exchange.read.DEFAULT_ADMIN_ROLE();
      for (const w of [fx.carol, fx.operator, fx.stranger]) {
        await expectRevert(
          fx.ext.write.setFundingParams([1800, 2_000_000, 500_000], { account: w.account }),
          "AccessControlUnauthorizedAccount",
          [addr(w), adminRole],
        );
      }
    });

    it("the first update starts the clock: records rate, time and mark, accrues nothing", async () => {
      const fx = await loadFixture(deployFixture);
      expect(await fundingOf(fx)).to.deep.equal({
        longIndex: 0n,
        shortIndex: 0n,
        lastRate: 0n,
        lastTime: 0n,
        lastMark: 0n,
      });
      const r = await update(fx, 1_000_000n);
      // a first update may move the rate by one whole interval's change from zero: 250,000
      expect(await fundingOf(fx)).to.deep.equal({
        longIndex: 0n,
        shortIndex: 0n,
        lastRate: 250_000n,
        lastTime: r.timestamp,
        lastMark: P,
      });
      expect(extArgs(r.events, "FundingUpdated")[0]).to.deep.equal({
        market: BTC,
        requestedRate: 1_000_000n,
        appliedRate: 250_000n,
        mark: P,
        longIndex: 0n,
        shortIndex: 0n,
      });
      expect(await fx.ext.read.fundingParams()).to.deep.equal([
        DEFAULT_FUNDING_PARAMS.interval,
        DEFAULT_FUNDING_PARAMS.maxRate,
        DEFAULT_FUNDING_PARAMS.maxRateChange,
      ]);
    });

    it("accrues the clamped rate over min(elapsed, interval) at the oracle mark, exactly as the sdk", async () => {
      const fx = await loadFixture(deployFixture);
      let state = await fundingOf(fx);
      const steps: [bigint, bigint, bigint][] = [
        // [seconds to wait, requested rate, mark]
        [0n, 100_000n, P],
        [HOUR, 100_000n, P], // one interval at 0.01% of 60,000: 6 USD per BTC
        [HOUR / 2n, 100_000n, price("61000.5")],
        [10n * HOUR, -50_000n, price("59000")], // capped at one interval
        [37n, -1_000_000n, price("59000")], // 37 s: the rate moves by at most 250,000 * 37 / 3600
        [HOUR, 0n, price("58000.1")],
      ];
      for (const [wait, rate, mark] of steps) {
        if (wait > 0n) await time.increase(wait - 2n); // two blocks below restamp the feeds
        await setMark(fx, BTC, mark);
        await setMark(fx, ETH, EP);
        const r = await update(fx, rate);
        const want = applyFundingUpdate(state, rate, mark, r.timestamp);
        state = await fundingOf(fx);
        expect(state, `step ${wait} ${rate}`).to.deep.equal(want.state);
        const [e] = extArgs(r.events, "FundingUpdated");
        expect(e.appliedRate).to.equal(want.applied);
        expect(e.requestedRate).to.equal(rate);
      }
      // the hand-checked one: 100,000 over a full hour at 60,000 moved both indices by 6e12 (6 USD per BTC)
      expect(applyFundingUpdate({ ...state, lastRate: 100_000n, lastTime: 1n }, 100_000n, P, 1n + HOUR).delta).to.equal(
        6_000_000_000_000n,
      );
    });

    it("clamps the rate to maxRate and its change to maxRateChange per interval of time", async () => {
      const fx = await loadFixture(deployFixture);
      const applied: bigint[] = [];
      const get = async (rate: bigint) => {
        const r = await update(fx, rate);
        applied.push((await fundingOf(fx)).lastRate as bigint);
        return r;
      };
      await get(10n ** 18n);
      for (let i = 0; i < 4; i++) {
        await advance(fx, HOUR);
        await get(10n ** 18n);
      }
      expect(applied).to.deep.equal([250_000n, 500_000n, 750_000n, 1_000_000n, 1_000_000n]);
      await advance(fx, 9n * HOUR); // a long gap still allows one interval's change only
      await get(-(2n ** 63n));
      expect(applied.at(-1)).to.equal(750_000n);
      // Tighter bounds by the admin: |rate| <= 100,000 at once, whatever the last rate.
      await fx.ext.write.setFundingParams([1800, 100_000, 10_000], { account: fx.admin.account });
      await advance(fx, 60n);
      await get(750_000n);
      expect(applied.at(-1)).to.equal(100_000n);
    });

    it("a stale or insane oracle reverts and nothing changes; unknown market", async () => {
      const fx = await loadFixture(deployFixture);
      await update(fx, 100_000n);
      const before = await fundingOf(fx);
      await time.increase(HOUR + 1n); // BTC feed maxStaleness is one hour
      await expectRevert(fx.ext.write.updateFunding([BTC, 100_000n], { account: fx.admin.account }), "OracleStale");
      await fx.btcFeed.write.setAnswer([1n]); // below minPrice
      await expectRevert(
        fx.ext.write.updateFunding([BTC, 100_000n], { account: fx.admin.account }),
        "OraclePriceOutOfBounds",
      );
      await fx.btcFeed.write.setBroken([true]);
      await expectRevert(fx.ext.write.updateFunding([BTC, 100_000n], { account: fx.admin.account }), "OracleStale");
      expect(await fundingOf(fx)).to.deep.equal(before);
      await expectRevert(
        fx.ext.write.updateFunding([7, 100_000n], { account: fx.admin.account }),
        "UnknownMarket",
        [7],
      );
      await expectRevert(fx.ext.read.fundingState([7]), "UnknownMarket");
      await expectRevert(fx.ext.read.openInterest([7]), "UnknownMarket");
      await expectRevert(fx.ext.read.pendingFunding([addr(fx.alice), 7]), "UnknownMarket");
    });

    it("once frozen, neither updateFunding nor setFundingParams works; pending funding stays as it was", async () => {
      const fx = await loadFixture(longShortFixture);
      await update(fx, 100_000n);
      await advance(fx, HOUR);
      await update(fx, 100_000n);
      const before = await fundingOf(fx);
      const owed = await fx.ext.read.pendingFunding([addr(fx.alice), BTC]);
      await fx.ext.write.requestForcedExit([0n], { account: fx.alice.account });
      const grace = BigInt((await fx.ext.read.exitParams()).forcedExitGracePeriod);
      await advance(fx, grace + 1n);
      await fx.ext.write.freeze([addr(fx.alice)], { account: fx.stranger.account });
      const [frozenAt] = await fx.ext.read.exitStatus();
      await expectRevert(fx.ext.write.updateFunding([BTC, 100_000n], { account: fx.admin.account }), "ExchangeFrozen", [
        frozenAt,
      ]);
      await expectRevert(
        fx.ext.write.setFundingParams([1800, 100_000, 10_000], { account: fx.admin.account }),
        "ExchangeFrozen",
        [frozenAt],
      );
      expect(await fundingOf(fx)).to.deep.equal(before);
      expect(await fx.ext.read.pendingFunding([addr(fx.alice), BTC])).to.equal(owed);
    });

    it("setFundingParams: bounds (FundingParamOutOfBounds), event, effect on accrual", async () => {
      const fx = await loadFixture(deployFixture);
      const set = (a: number, b: number, c: number) =>
        fx.ext.write.setFundingParams([a, b, c], { account: fx.admin.account });
      await expectRevert(set(299, 1, 1), "FundingParamOutOfBounds", [0n, 299n, 300n, 86_400n]);
      await expectRevert(set(86_401, 1, 1), "FundingParamOutOfBounds", [0n, 86_401n, 300n, 86_400n]);
      await expectRevert(set(300, 0, 1), "FundingParamOutOfBounds", [1n, 0n, 1n, 10_000_000n]);
      await expectRevert(set(300, 10_000_001, 1), "FundingParamOutOfBounds", [1n, 10_000_001n, 1n, 10_000_000n]);
      await expectRevert(set(300, 1, 0), "FundingParamOutOfBounds", [2n, 0n, 1n, 20_000_000n]);
      await expectRevert(set(300, 1, 20_000_001), "FundingParamOutOfBounds", [2n, 20_000_001n, 1n, 20_000_000n]);
      const r = await sent(fx, await set(1_800, 10_000_000, 20_000_000));
      expect(extArgs(r.events, "FundingParamsSet")[0]).to.deep.equal({
        interval: 1_800,
        maxRate: 10_000_000,
        maxRateChange: 20_000_000,
      });
      const params = { interval: 1_800n, maxRate: 10_000_000n, maxRateChange: 20_000_000n };
      let state = await fundingOf(fx);
      const u1 = await update(fx, 10_000_000n);
      state = applyFundingUpdate(state, 10_000_000n, P, u1.timestamp, params).state;
      await advance(fx, HOUR); // two intervals of 30 min: accrues one
      const u2 = await update(fx, 10_000_000n);
      const want = applyFundingUpdate(state, 10_000_000n, P, u2.timestamp, params);
      expect(want.delta).to.equal((P * 10_000_000n) / 1_000n); // 1% of 60,000 per BTC
      expect(await fundingOf(fx)).to.deep.equal(want.state);
    });
  });

  describe("lazy settlement", () => {
    it("views and accountHealth include pending funding; the next settle takes it into cash exactly", async () => {
      const fx = await loadFixture(longShortFixture);
      await update(fx, 100_000n);
      await advance(fx, HOUR);
      await update(fx, 100_001n); // 6,000,060,000,000 per BTC: 6.00006 USD
      const { longIndex, shortIndex } = await fundingOf(fx);
      expect(longIndex).to.equal(6_000_060_000_000n);
      const aliceOwes = await fx.ext.read.pendingFunding([addr(fx.alice), BTC]);
      const bobOwes = await fx.ext.read.pendingFunding([addr(fx.bob), BTC]);
      expect([aliceOwes, bobOwes]).to.deep.equal([usd("6.00006"), -usd("6.00006")]);
      expect(aliceOwes).to.equal(pendingFunding(size("1"), longIndex, shortIndex, 0n));

      const aliceCash = await cashOf(fx, addr(fx.alice));
      const [eq] = await fx.exchange.read.accountHealth([addr(fx.alice)]);
      expect(eq).to.equal(aliceCash - aliceOwes + (size("1") * P) / 10n ** 8n);

      // Alice buys 0.5 more from carol: her funding is settled first, in the same batch.
      const bobCash = await cashOf(fx, addr(fx.bob));
      const r = await trade(fx, fx.alice, fx.carol, size("0.5"));
      const want = aliceCash - aliceOwes + fillCash(size("0.5"), P).buyer;
      expect(await cashOf(fx, addr(fx.alice))).to.equal(want);
      const pc = eventsNamed(r.events, "PositionChanged").find((e) => e.args.account === addr(fx.alice))!;
      expect([pc.args.oldSize, pc.args.newSize, pc.args.cash]).to.deep.equal([size("1"), size("1.5"), want]);
      expect(await fx.ext.read.pendingFunding([addr(fx.alice), BTC])).to.equal(0n);
      // Bob was not touched: his funding is still pending, his cash unchanged.
      expect(await cashOf(fx, addr(fx.bob))).to.equal(bobCash);
      expect(await fx.ext.read.pendingFunding([addr(fx.bob), BTC])).to.equal(bobOwes);
      expect(await fx.ext.read.openInterest([BTC])).to.equal(size("1.5"));
    });

    it("rounds against the payer on both sides, for positive and negative funding", async () => {
      const fx = await loadFixture(deployFixture);
      await trade(fx, fx.alice, fx.bob, size("0.0001")); // 10,000 units
      await update(fx, 100_000n);
      await advance(fx, HOUR);
      await update(fx, 100_001n); // index 6,000,060,000,000: 10,000 * 6.00006e12 / 1e14 = 600.006
      expect(await fx.ext.read.pendingFunding([addr(fx.alice), BTC])).to.equal(601n); // long pays, up
      expect(await fx.ext.read.pendingFunding([addr(fx.bob), BTC])).to.equal(-600n); // short receives, down
      const [a0, b0] = [await cashOf(fx, addr(fx.alice)), await cashOf(fx, addr(fx.bob))];
      // Both close against carol/dave: the settled amounts are exactly the pending ones.
      await trade(fx, fx.carol, fx.alice, size("0.0001"));
      await trade(fx, fx.bob, fx.dave, size("0.0001"));
      const c = fillCash(size("0.0001"), P);
      expect(await cashOf(fx, addr(fx.alice))).to.equal(a0 - 601n + c.seller);
      expect(await cashOf(fx, addr(fx.bob))).to.equal(b0 + 600n + c.buyer);

      // Negative funding: shorts pay (carol is long, dave short now).
      await advance(fx, HOUR);
      await update(fx, -149_999n); // within the change clamp (100,001 - 250,000)
      const { longIndex, shortIndex } = await fundingOf(fx);
      const d = longIndex - 6_000_060_000_000n;
      expect(d).to.equal(-(P * 149_999n) / 1_000n);
      expect(await fx.ext.read.pendingFunding([addr(fx.dave), BTC])).to.equal(fundingOwed(-size("0.0001"), d));
      expect(await fx.ext.read.pendingFunding([addr(fx.dave), BTC])).to.equal(900n); // 899.994 up
      expect(await fx.ext.read.pendingFunding([addr(fx.carol), BTC])).to.equal(-899n); // toward zero
      expect(shortIndex).to.equal(longIndex);
    });

    it("a side flip settles as the old side and snapshots the new side's index", async () => {
      const fx = await loadFixture(longShortFixture);
      await update(fx, 200_000n);
      await advance(fx, HOUR);
      await update(fx, 200_000n);
      const owes = await fx.ext.read.pendingFunding([addr(fx.alice), BTC]);
      expect(owes).to.equal(usd("12"));
      const cash = await cashOf(fx, addr(fx.alice));
      // alice sells 2 to carol: long 1 -> short 1
      await trade(fx, fx.carol, fx.alice, size("2"));
      expect(await positionOf(fx, addr(fx.alice))).to.equal(-size("1"));
      expect(await cashOf(fx, addr(fx.alice))).to.equal(cash - owes + fillCash(size("2"), P).seller);
      expect(await fx.ext.read.pendingFunding([addr(fx.alice), BTC])).to.equal(0n);
      expect(await fx.ext.read.openInterest([BTC])).to.equal(size("2")); // carol 2 long; alice, bob short
      await advance(fx, HOUR);
      await update(fx, 200_000n);
      expect(await fx.ext.read.pendingFunding([addr(fx.alice), BTC])).to.equal(-usd("12")); // now receives
    });

    it("a loaded position whose fill is skipped: settled only when its account is written", async () => {
      const fx = await loadFixture(deployFixture);
      await trade(fx, fx.alice, fx.bob, size("1"));
      await trade(fx, fx.alice, fx.bob, size("10"), EP, ETH);
      for (const m of [BTC, ETH]) await update(fx, 100_000n, m);
      await advance(fx, HOUR);
      for (const m of [BTC, ETH]) await update(fx, 100_000n, m);
      const btcOwed = await fx.ext.read.pendingFunding([addr(fx.alice), BTC]);
      const ethOwed = await fx.ext.read.pendingFunding([addr(fx.alice), ETH]);
      expect([btcOwed, ethOwed]).to.deep.equal([usd("6"), usd("3")]);
      const cash = await cashOf(fx, addr(fx.alice));

      // Batch 1: alice's only fill (ETH) is skipped (price outside carol's limit): nothing of hers changes.
      {
        const a = await makeOrder(fx, fx.alice, { market: ETH, isBuy: true, price: EP, size: size("1") });
        const c = await makeOrder(fx, fx.carol, { market: ETH, isBuy: false, price: EP + 1_000_000n, size: size("1") });
        const r = await settle(fx, [c, a], [fill(0, 1, size("1"), EP, ETH_RATES)]);
        expect(eventsNamed(r.events, "FillSkipped")).to.have.length(1);
        expect(await cashOf(fx, addr(fx.alice))).to.equal(cash);
        expect(await fx.ext.read.pendingFunding([addr(fx.alice), ETH])).to.equal(ethOwed);
      }
      // Batch 2: the ETH fill is skipped again but a BTC fill of alice's settles: her ETH position was loaded,
      // so its funding is settled too (and the position written with a fresh snapshot).
      {
        const a1 = await makeOrder(fx, fx.alice, { market: ETH, isBuy: true, price: EP, size: size("1") });
        const c1 = await makeOrder(fx, fx.carol, {
          market: ETH,
          isBuy: false,
          price: EP + 1_000_000n,
          size: size("1"),
        });
        const a2 = await makeOrder(fx, fx.alice, { isBuy: true, price: P, size: size("0.1") });
        const d2 = await makeOrder(fx, fx.dave, { isBuy: false, price: P, size: size("0.1") });
        const r = await settle(
          fx,
          [c1, a1, d2, a2],
          [fill(0, 1, size("1"), EP, ETH_RATES), fill(2, 3, size("0.1"), P)],
        );
        expect(eventsNamed(r.events, "FillSkipped")).to.have.length(1);
        const want = cash - btcOwed - ethOwed + fillCash(size("0.1"), P).buyer;
        expect(await cashOf(fx, addr(fx.alice))).to.equal(want);
        const changes = eventsNamed(r.events, "PositionChanged").filter((e) => e.args.account === addr(fx.alice));
        expect(changes.map((e) => [e.args.market, e.args.oldSize, e.args.newSize, e.args.cash])).to.deep.equal([
          [ETH, size("10"), size("10"), want],
          [BTC, size("1"), size("1.1"), want],
        ]);
        for (const m of [BTC, ETH]) expect(await fx.ext.read.pendingFunding([addr(fx.alice), m])).to.equal(0n);
      }
    });

    it("the settlement margin check counts pending funding, inside and outside the batch", async () => {
      const fx = await loadFixture(deployFixture);
      // Alice: long 1 BTC and 10 ETH; she then withdraws down to just above her initial requirement.
      await trade(fx, fx.alice, fx.bob, size("1"));
      await trade(fx, fx.alice, fx.bob, size("10"), EP, ETH);
      for (const m of [BTC, ETH]) await update(fx, 1_000_000n, m); // applied 250,000
      await advance(fx, HOUR);
      for (const m of [BTC, ETH]) await update(fx, 1_000_000n, m); // 500,000: 30 USD per BTC, 1.5 per ETH
      const owed = {
        btc: await fx.ext.read.pendingFunding([addr(fx.alice), BTC]),
        eth: await fx.ext.read.pendingFunding([addr(fx.alice), ETH]),
      };
      expect(owed).to.deep.equal({ btc: usd("30"), eth: usd("15") });
      const [eq, im] = await fx.ext.read.accountHealth([addr(fx.alice)]);
      const cash = await cashOf(fx, addr(fx.alice));
      const state: AccountState = {
        cash: cash - owed.btc - owed.eth,
        positions: new Map([
          [BTC, size("1")],
          [ETH, size("10")],
        ]),
      };
      const marks = new Map([
        [BTC, P],
        [ETH, EP],
      ]);
      expect([eq, im]).to.deep.equal([equity(state, marks), initialRequirement(state, marks, RISKS)]);
      // Withdraw all but 10 USD of free collateral (the fast withdrawal sees the pending funding too).
      await expectRevert(fastWithdraw(fx, fx.alice, eq - im + 1n), "InsufficientMargin");
      await fastWithdraw(fx, fx.alice, eq - im - usd("10"));

      // Buying 0.01 BTC more (IM +60 USD): fails by 50 USD; the ETH position is not in the batch (slow path).
      const a = await makeOrder(fx, fx.alice, { isBuy: true, price: P, size: size("0.01") });
      const b = await makeOrder(fx, fx.bob, { isBuy: false, price: P, size: size("0.01") });
      const { batch, signature } = await makeBatch(fx, [b, a], [fill(0, 1, size("0.01"), P)]);
      const cashNow = (await cashOf(fx, addr(fx.alice))) - owed.btc - owed.eth;
      const before: AccountState = {
        cash: cashNow,
        positions: new Map([
          [BTC, size("1")],
          [ETH, size("10")],
        ]),
      };
      const after: AccountState = {
        cash: cashNow + fillCash(size("0.01"), P).buyer,
        positions: new Map([
          [BTC, size("1.01")],
          [ETH, size("10")],
        ]),
      };
      const eqAfter = equity(after, marks);
      const imAfter = initialRequirement(after, marks, RISKS);
      expect(imAfter - eqAfter > usd("50")).to.equal(true);
      await expectRevert(
        fx.exchange.write.settle([batch, signature], { account: fx.keeper.account }),
        "AccountMarginCheckFailed",
        [
          addr(fx.alice),
          eqAfter,
          imAfter,
          equity(before, marks) - maintenanceRequirement(before, marks, RISKS),
          eqAfter - maintenanceRequirement(after, marks, RISKS),
        ],
      );

      // Reducing risk passes although the account is below its initial requirement after a price drop and
      // the settled funding lowers its cash: health before counts the same pending funding.
      await setMark(fx, BTC, price("59900"));
      const s1 = await makeOrder(fx, fx.alice, { isBuy: false, price: P, size: size("0.001") });
      const s2 = await makeOrder(fx, fx.carol, { isBuy: true, price: P, size: size("0.001") });
      await settle(fx, [s2, s1], [fill(0, 1, size("0.001"), P)]);
      expect(await fx.ext.read.pendingFunding([addr(fx.alice), BTC])).to.equal(0n);
      expect(await fx.ext.read.pendingFunding([addr(fx.alice), ETH])).to.equal(owed.eth); // not in the batch
    });
  });

  describe("the Funding module's internal API (FundingModuleHarness)", () => {
    async function harness() {
      const [w0, w1, w2] = await hre.viem.getWalletClients();
      const h = await hre.viem.deployContract("FundingModuleHarness");
      const pub = await hre.viem.getPublicClient();
      const logs = async (hash: `0x${string}`) =>
        parseEventLogs({ abi: h.abi, logs: (await pub.waitForTransactionReceipt({ hash })).logs });
      const [a, b, c] = [w0, w1, w2].map((w) => getAddress(w.account.address)) as [Address, Address, Address];
      return { h, a, b, c, logs };
    }

    it("_applyPositionChange: funding first, then both deltas; snapshot, open bit and open interest", async () => {
      const { h, a, b, logs } = await harness();
      await h.write.setCash([a, 1_000_000n]);
      expect(await h.read.pending([a, 3n])).to.equal(0n);
      await h.write.applyPositionChange([a, 3n, 500n, -10n]); // long 500
      await h.write.applyPositionChange([b, 3n, -500n, 0n]);
      expect(await h.read.state([3n])).to.deep.equal([0n, 0n, 500n, 0n]);
      expect(await h.read.cashOf([a])).to.deep.equal([999_990n, 8n]);
      // Indices move apart (as after a socialised loss on shorts and funding).
      const L = 3n * 10n ** 14n + 1n;
      const S = -(7n * 10n ** 12n);
      await h.write.setIndices([3n, L, S]);
      const owedA = fundingOwed(500n, L); // 1501
      const owedB = fundingOwed(-500n, S); // 35
      expect([await h.read.pending([a, 3n]), await h.read.pending([b, 3n])]).to.deep.equal([owedA, owedB]);
      expect(owedA).to.equal(1_501n);
      // a flips long 500 -> short 200: settles as a long, snapshot = shortIndex, OI loses its 500
      const ev = await logs(await h.write.applyPositionChange([a, 3n, -700n, 42n]));
      const pc = ev.find((e) => e.eventName === "PositionChanged")!;
      expect(pc.args).to.deep.equal({
        account: a,
        market: 3,
        oldSize: 500n,
        newSize: -200n,
        cash: 999_990n - owedA + 42n,
      });
      expect(await h.read.position([a, 3n])).to.deep.equal([-200n, S]);
      expect(await h.read.pending([a, 3n])).to.equal(0n);
      // b buys 700: short 500 -> long 200, OI 200
      await h.write.applyPositionChange([b, 3n, 700n, 0n]);
      expect(await h.read.position([b, 3n])).to.deep.equal([200n, L]);
      expect((await h.read.state([3n]))[2]).to.equal(200n);
      expect(await h.read.cashOf([b])).to.deep.equal([-owedB, 8n]);
      // closing clears the word and the open bit
      await h.write.applyPositionChange([b, 3n, -200n, 0n]);
      expect(await h.read.position([b, 3n])).to.deep.equal([0n, 0n]);
      expect((await h.read.cashOf([b]))[1]).to.equal(0n);
      expect((await h.read.state([3n]))[2]).to.equal(0n);
    });

    it("_settleFunding: every open position, FundingSettled per position, fresh snapshots", async () => {
      const { h, a, b, logs } = await harness();
      await h.write.applyPositionChange([a, 0n, 300n, 0n]);
      await h.write.applyPositionChange([a, 5n, -40n, 0n]);
      await h.write.applyPositionChange([b, 0n, -300n, 0n]);
      await h.write.applyPositionChange([b, 5n, 40n, 0n]);
      await h.write.setIndices([0n, 10n ** 13n, 10n ** 13n]); // market 0: longs pay 0.1 per unit of size
      await h.write.setIndices([5n, -(10n ** 12n) + 3n, -(10n ** 12n) + 3n]); // market 5: shorts pay
      const owed0 = fundingOwed(300n, 10n ** 13n);
      const owed5 = fundingOwed(-40n, -(10n ** 12n) + 3n);
      const ev = await logs(await h.write.settleFunding([a]));
      const settled = ev.filter((e) => e.eventName === "FundingSettled").map((e) => e.args);
      expect(settled).to.deep.equal([
        { account: a, market: 0, amount: owed0, cash: -owed0 },
        { account: a, market: 5, amount: owed5, cash: -owed0 - owed5 },
      ]);
      expect(await h.read.cashOf([a])).to.deep.equal([-owed0 - owed5, (1n << 0n) | (1n << 5n)]);
      expect(await h.read.position([a, 0n])).to.deep.equal([300n, 10n ** 13n]);
      expect(await h.read.position([a, 5n])).to.deep.equal([-40n, -(10n ** 12n) + 3n]);
      for (const m of [0n, 5n]) expect(await h.read.pending([a, m])).to.equal(0n);
      // nothing pending: no event, no write
      expect(
        (await logs(await h.write.settleFunding([a]))).filter((e) => e.eventName === "FundingSettled"),
      ).to.have.length(0);
      // b receives (rounded toward zero)
      await h.write.settleFunding([b]);
      expect((await h.read.cashOf([b]))[0]).to.equal(
        -fundingOwed(-300n, 10n ** 13n) - fundingOwed(40n, -(10n ** 12n) + 3n),
      );
    });

    it("_socializeLoss: one side's index, ceil(amount * 1e14 / OI), each position charged at least its share", async () => {
      const { h, a, b, c, logs } = await harness();
      // longs a 3e8 and c 1e8 (4 BTC), short b 4e8
      await h.write.applyPositionChange([a, 1n, 300_000_000n, 0n]);
      await h.write.applyPositionChange([c, 1n, 100_000_000n, 0n]);
      await h.write.applyPositionChange([b, 1n, -400_000_000n, 0n]);
      const amount = usd("1000.000001");
      const d = socialLossDelta(amount, 400_000_000n);
      const ev = await logs(await h.write.socializeLoss([1n, false, amount]));
      expect(ev.find((e) => e.eventName === "Charged")!.args.charged).to.equal(amount);
      expect(ev.find((e) => e.eventName === "LossSocialized")!.args).to.deep.equal({
        market: 1,
        chargeLongs: false,
        amount,
        indexDelta: -d,
      });
      expect((await h.read.state([1n])).slice(0, 2)).to.deep.equal([0n, -d]);
      expect(await h.read.pending([b, 1n])).to.equal(fundingOwed(-400_000_000n, -d));
      expect((await h.read.pending([b, 1n])) >= amount).to.equal(true);
      expect(await h.read.pending([a, 1n])).to.equal(0n);
      // Charging longs: split pro rata, rounded up each.
      await h.write.socializeLoss([1n, true, 7n]);
      const d2 = socialLossDelta(7n, 400_000_000n);
      expect((await h.read.state([1n]))[0]).to.equal(d2);
      const pa = await h.read.pending([a, 1n]);
      const pc = await h.read.pending([c, 1n]);
      expect([pa, pc]).to.deep.equal([fundingOwed(300_000_000n, d2), fundingOwed(100_000_000n, d2)]);
      expect(pa + pc >= 7n && pa + pc <= 9n).to.equal(true);
      // No open interest (market 9) or zero amount: nothing charged.
      const none = await logs(await h.write.socializeLoss([9n, true, 5n]));
      expect(none.find((e) => e.eventName === "Charged")!.args.charged).to.equal(0n);
      const zero = await logs(await h.write.socializeLoss([1n, true, 0n]));
      expect(zero.find((e) => e.eventName === "Charged")!.args.charged).to.equal(0n);
    });
  });

  describe("open interest", () => {
    type Step =
      | { kind: "batch"; fills: { maker: number; taker: number; market: number; makerBuys: boolean; lots: number }[] }
      | { kind: "funding"; market: number; rate: number; wait: number }
      | { kind: "price"; market: number; bps: number };
    const who = fc.integer({ min: 0, max: 3 });
    const stepArb: fc.Arbitrary<Step> = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant("batch" as const),
          fills: fc.array(
            fc.record({
              maker: who,
              taker: who,
              market: fc.integer({ min: 0, max: 1 }),
              makerBuys: fc.boolean(),
              lots: fc.integer({ min: 1, max: 20_000 }),
            }),
            { minLength: 1, maxLength: 5 },
          ),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("funding" as const),
          market: fc.integer({ min: 0, max: 1 }),
          rate: fc.integer({ min: -1_000_000, max: 1_000_000 }),
          wait: fc.integer({ min: 1, max: 7_200 }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("price" as const),
          market: fc.integer({ min: 0, max: 1 }),
          bps: fc.integer({ min: -500, max: 500 }),
        }),
      },
    );
    const MARKETS = [
      { id: BTC, lot: size("0.0001"), tick: price("0.1"), rates: BTC_RATES },
      { id: ETH, lot: size("0.001"), tick: price("0.01"), rates: ETH_RATES },
    ];

    it("after random batches and funding updates: OI == sum of long sizes, positions sum to zero, solvent", async function () {
      this.timeout(900_000);
      let fundingSteps = 0;
      let fills = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 12 }), async (steps) => {
          const fx = await loadFixture(deployFixture);
          const wallets = [fx.alice, fx.bob, fx.carol, fx.dave];
          const traders = wallets.map(addr);
          for (const s of steps) {
            if (s.kind === "funding") {
              await advance(fx, BigInt(s.wait));
              await update(fx, BigInt(s.rate), s.market);
              fundingSteps++;
            } else if (s.kind === "price") {
              const feed = s.market === BTC ? fx.btcFeed : fx.ethFeed;
              await feed.write.setAnswer([((await feed.read.answer()) * BigInt(10_000 + s.bps)) / 10_000n]);
            } else {
              const orders = [];
              const fs = [];
              for (const f of s.fills) {
                if (f.maker === f.taker) continue;
                const m = MARKETS[f.market];
                const mark = await fx.exchange.read.markPrice([m.id]);
                const p = (mark / m.tick) * m.tick;
                const sz = BigInt(f.lots) * m.lot;
                orders.push(
                  await makeOrder(fx, wallets[f.maker], { market: m.id, isBuy: f.makerBuys, price: p, size: sz }),
                );
                orders.push(
                  await makeOrder(fx, wallets[f.taker], { market: m.id, isBuy: !f.makerBuys, price: p, size: sz }),
                );
                fs.push(fill(orders.length - 2, orders.length - 1, sz, p, m.rates));
              }
              if (fs.length === 0) continue;
              try {
                const r = await settle(fx, orders, fs);
                fills += eventsNamed(r.events, "FillSettled").length;
              } catch (e) {
                expect(String(e)).to.match(/AccountMarginCheckFailed/);
              }
            }
            // invariants
            let owed = await fx.exchange.read.feesAccrued();
            for (const t of traders) {
              owed += await cashOf(fx, t);
              for (const m of MARKETS) owed -= await fx.ext.read.pendingFunding([t, m.id]);
            }
            const balance = await fx.token.read.balanceOf([fx.exchange.address]);
            expect(balance >= owed, `balance ${balance} < owed ${owed}`).to.equal(true);
            // dust: at most one unit per position settlement or pending position (rounded against the payer)
            expect(balance - owed <= 1_000n, `dust ${balance - owed}`).to.equal(true);
            for (const m of MARKETS) {
              let longs = 0n;
              let sum = 0n;
              for (const t of traders) {
                const p = await positionOf(fx, t, m.id);
                sum += p;
                if (p > 0n) longs += p;
              }
              expect(sum).to.equal(0n);
              expect(await fx.ext.read.openInterest([m.id]), `OI of market ${m.id}`).to.equal(longs);
            }
          }
        }),
        {
          numRuns: Number(process.env.FC_RUNS ?? 20),
          seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined,
        },
      );
      expect(fundingSteps).to.be.greaterThan(0);
      expect(fills).to.be.greaterThan(0);
    });
  });
});
