// Liquidation, the insurance fund and bad debt (contracts/exchange/{Liquidation,Insurance}.sol): exact amounts
// (by hand and against sdk/liquidation.ts), down to healthy and no further, bankrupt accounts, insurance cover,
// socialised loss in the other side's pending funding, the liquidator's margin, oracle failure, pause, freeze.
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { Address } from "viem";
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
  fill,
  makeOrder,
  positionOf,
  price,
  sent,
  settle,
  size,
  usd,
} from "./helpers";
import { type AccountState, type MarketRisk, equity, feeCap, maintenanceRequirement } from "../../sdk/margin";
import { applyLiquidation, liquidationPenalty, maxLiquidationSize, maxLiquidationSizeOf } from "../../sdk/liquidation";
import { FUNDING_INDEX_DIVISOR, socialLossDelta } from "../../sdk/funding";

const BTC_LOT = size("0.0001");
const MMF = 50_000n;
const RISKS = new Map<number, MarketRisk>([
  [BTC, { imfPpm: 100_000n, mmfPpm: MMF }],
  [ETH, { imfPpm: 100_000n, mmfPpm: MMF }],
]);

/** Sets `market`'s feed to a 6-decimal price (the mock feeds have 8 decimals), stamped now. */
async function setMark(fx: Fx, market: number, p: bigint) {
  const feed = market === BTC ? fx.btcFeed : fx.ethFeed;
  await feed.write.setAnswer([p * 100n]);
}

/**
 * `long` buys `sz` from `short` at `p` in `market`. Net of fees nobody pays: the maker (`short`) gets the
 * market's minimum rebate, the taker (`long`) pays it and has it deposited back, so its cash is exactly
 * its deposit minus the notional.
 */
async function trade(fx: Fx, long: Fx["alice"], short: Fx["alice"], sz: bigint, p: bigint, market = BTC) {
  const m = await makeOrder(fx, short, { market, isBuy: false, price: p, size: sz });
  const t = await makeOrder(fx, long, { market, isBuy: true, price: p, size: sz });
  const rebate = -feeCap(sz, p, market === BTC ? BTC_RATES.maker : ETH_RATES.maker);
  const r = await settle(fx, [m, t], [fill(0, 1, sz, p, undefined, { makerFee: -rebate, takerFee: rebate })]);
  expect(eventsNamed(r.events, "FillSettled")).to.have.length(1);
  if (rebate > 0n) {
    await fx.token.write.mint([addr(fx.admin), rebate]);
    await fx.token.write.approve([fx.exchange.address, rebate], { account: fx.admin.account });
    await fx.exchange.write.depositFor([addr(long), rebate], { account: fx.admin.account });
  }
}

/** alice long 16 BTC from bob at 60,000 (cash -860,000 / +1,060,000). */
async function aliceLongFixture() {
  const fx = await deployFixture();
  await trade(fx, fx.alice, fx.bob, size("16"), price("60000"));
  return fx;
}

/** alice short 16 BTC to bob at 60,000. */
async function aliceShortFixture() {
  const fx = await deployFixture();
  await trade(fx, fx.bob, fx.alice, size("16"), price("60000"));
  return fx;
}

async function stateOf(fx: Fx, a: Address): Promise<AccountState> {
  const positions = new Map<number, bigint>();
  for (const m of [BTC, ETH]) {
    const s = await positionOf(fx, a, m);
    if (s !== 0n) positions.set(m, s);
  }
  return { cash: await cashOf(fx, a), positions };
}

async function health(fx: Fx, a: Address) {
  const [eq, , mm] = await fx.exchange.read.accountHealth([a]);
  return { equity: eq, maintenance: mm, health: eq - mm };
}

/** Everything that must not move when a liquidation reverts. */
async function snapshot(fx: Fx) {
  const who = [fx.alice, fx.bob, fx.carol, fx.dave].map(addr);
  return {
    cash: await Promise.all(who.map((a) => cashOf(fx, a))),
    btc: await Promise.all(who.map((a) => positionOf(fx, a, BTC))),
    eth: await Promise.all(who.map((a) => positionOf(fx, a, ETH))),
    insurance: await fx.ext.read.insuranceFund(),
    fees: await fx.exchange.read.feesAccrued(),
  };
}

/** Token balance == sum of (cash - pending funding) + fees + insurance, up to `dust` units in the Exchange's favour. */
async function expectSolvent(fx: Fx, dust = 0n) {
  let owed = (await fx.exchange.read.feesAccrued()) + (await fx.ext.read.insuranceFund());
  for (const w of [fx.alice, fx.bob, fx.carol, fx.dave, fx.stranger]) {
    owed += await cashOf(fx, addr(w));
    for (const m of [BTC, ETH]) owed -= await fx.ext.read.pendingFunding([addr(w), m]);
  }
  const balance = await fx.token.read.balanceOf([fx.exchange.address]);
  expect(balance >= owed, `balance ${balance} < owed ${owed}`).to.equal(true);
  expect(balance - owed <= dust, `balance ${balance} exceeds owed ${owed} by more than ${dust}`).to.equal(true);
  for (const m of [BTC, ETH]) {
    let sum = 0n;
    for (const w of [fx.alice, fx.bob, fx.carol, fx.dave, fx.stranger]) sum += await positionOf(fx, addr(w), m);
    expect(sum, `positions in market ${m}`).to.equal(0n);
  }
}

describe("Exchange: liquidation and insurance", () => {
  describe("partial liquidation down to healthy", () => {
    it("a healthy account cannot be liquidated", async () => {
      const fx = await loadFixture(aliceLongFixture);
      // at 60,000: equity 100,000, maintenance 48,000
      await expectRevert(
        fx.ext.write.liquidate([addr(fx.alice), BTC, BTC_LOT], { account: fx.carol.account }),
        "AccountHealthy",
        [addr(fx.alice), usd("100000"), usd("48000")],
      );
      expect(await fx.ext.read.maxLiquidationSize([addr(fx.alice), BTC])).to.equal(0n);
      // The threshold is -860,000 + 16p = 5% of 16p, p = 56,578.947...: at 56,578.95 alice is healthy by 0.04
      // (equity 45,263.2, maintenance 45,263.16); at 56,578.94 she is short by 0.112 (45,263.04 vs 45,263.152)
      // and one lot restores her.
      await setMark(fx, BTC, price("56578.95"));
      await expectRevert(
        fx.ext.write.liquidate([addr(fx.alice), BTC, BTC_LOT], { account: fx.carol.account }),
        "AccountHealthy",
        [addr(fx.alice), usd("45263.2"), usd("45263.16")],
      );
      await setMark(fx, BTC, price("56578.94"));
      expect(await health(fx, addr(fx.alice))).to.deep.equal({
        equity: usd("45263.04"),
        maintenance: usd("45263.152"),
        health: -usd("0.112"),
      });
      expect(await fx.ext.read.maxLiquidationSize([addr(fx.alice), BTC])).to.equal(BTC_LOT);
      await fx.ext.write.liquidate([addr(fx.alice), BTC, BTC_LOT], { account: fx.carol.account });
      expect((await health(fx, addr(fx.alice))).health >= 0n).to.equal(true);
    });

    it("takes exactly the maximum size at the mark, with every amount exact, and leaves the account healthy", async () => {
      const fx = await loadFixture(aliceLongFixture);
      await setMark(fx, BTC, price("56500"));
      // equity -860,000 + 16 * 56,500 = 44,000; maintenance 5% of 904,000 = 45,200; health -1,200.
      expect(await health(fx, addr(fx.alice))).to.deep.equal({
        equity: usd("44000"),
        maintenance: usd("45200"),
        health: usd("-1200"),
      });
      // Each BTC taken: +2,825 maintenance released, -1,412.5 penalty: (1,200 + 5e-6) / 1,412.5 = 0.849557 BTC,
      // rounded up to the lot: 0.8496 BTC.
      const max = await fx.ext.read.maxLiquidationSize([addr(fx.alice), BTC]);
      expect(max).to.equal(size("0.8496"));
      expect(max).to.equal(maxLiquidationSize(usd("44000"), usd("45200"), size("16"), price("56500"), MMF, BTC_LOT));
      await expectRevert(
        fx.ext.write.liquidate([addr(fx.alice), BTC, max + BTC_LOT], { account: fx.carol.account }),
        "LiquidationTooLarge",
        [addr(fx.alice), BTC, max + BTC_LOT, max],
      );

      const before = { alice: await cashOf(fx, addr(fx.alice)), carol: await cashOf(fx, addr(fx.carol)) };
      const balance = await fx.token.read.balanceOf([fx.exchange.address]);
      const r = await sent(fx, await fx.ext.write.liquidate([addr(fx.alice), BTC, max], { account: fx.carol.account }));
      // notional 0.8496 * 56,500 = 48,002.4; penalty 2.5% = 1,200.06, half each to carol and the insurance fund.
      const expected = {
        accountCashDelta: usd("48002.4") - usd("1200.06"),
        liquidatorCashDelta: -usd("48002.4") + usd("600.03"),
        penalty: usd("1200.06"),
        liquidatorReward: usd("600.03"),
        insuranceCredit: usd("600.03"),
      };
      const ev = eventsNamed(r.events as never, "Liquidated") as unknown as { args: Record<string, unknown> }[];
      expect(ev).to.have.length(1);
      expect(ev[0].args).to.deep.equal({
        account: addr(fx.alice),
        liquidator: addr(fx.carol),
        market: BTC,
        sizeDelta: -max,
        mark: price("56500"),
        amounts: expected,
      });
      // the sdk computes the same (one lot alone: 5.65 of notional, 0.14125 of penalty)
      expect(liquidationPenalty(BTC_LOT, price("56500"), MMF)).to.equal(usd("0.14125"));
      const fromSdk = applyLiquidation(
        { cash: before.alice, positions: new Map([[BTC, size("16")]]) },
        { cash: before.carol, positions: new Map() },
        BTC,
        max,
        price("56500"),
        MMF,
      );
      expect(fromSdk.amounts).to.deep.equal(expected);

      expect(await cashOf(fx, addr(fx.alice))).to.equal(before.alice + expected.accountCashDelta);
      expect(await cashOf(fx, addr(fx.carol))).to.equal(before.carol + expected.liquidatorCashDelta);
      expect(await fx.ext.read.insuranceFund()).to.equal(usd("600.03"));
      expect(await positionOf(fx, addr(fx.alice))).to.equal(size("16") - max);
      expect(await positionOf(fx, addr(fx.carol))).to.equal(max);
      expect(await fx.token.read.balanceOf([fx.exchange.address])).to.equal(balance); // nothing left the Exchange
      expect(await fx.ext.read.openInterest([BTC])).to.equal(size("16"));
      // after: 15.1504 BTC (855,997.6), cash -813,197.66: equity 42,799.94 >= maintenance 42,799.88
      expect(await health(fx, addr(fx.alice))).to.deep.equal({
        equity: usd("42799.94"),
        maintenance: usd("42799.88"),
        health: usd("0.06"),
      });
      expect(eventsNamed(r.events as never, "BadDebt")).to.have.length(0);
      // and not one lot more
      await expectRevert(
        fx.ext.write.liquidate([addr(fx.alice), BTC, BTC_LOT], { account: fx.carol.account }),
        "AccountHealthy",
        [addr(fx.alice), usd("42799.94"), usd("42799.88")],
      );
      await expectSolvent(fx);
      console.log(`      liquidation gas (partial, 1 market each side): ${r.gasUsed}`);
      expect(r.gasUsed < 250_000n).to.equal(true);
    });

    it("a smaller liquidation is allowed and repeated liquidation stops at healthy", async () => {
      const fx = await loadFixture(aliceLongFixture);
      await setMark(fx, BTC, price("56500"));
      await fx.ext.write.liquidate([addr(fx.alice), BTC, size("0.5")], { account: fx.carol.account });
      const h = await health(fx, addr(fx.alice));
      expect(h.health < 0n).to.equal(true);
      const max = await fx.ext.read.maxLiquidationSize([addr(fx.alice), BTC]);
      expect(max).to.equal(
        maxLiquidationSizeOf(await stateOf(fx, addr(fx.alice)), BTC, new Map([[BTC, price("56500")]]), RISKS, BTC_LOT),
      );
      await fx.ext.write.liquidate([addr(fx.alice), BTC, max], { account: fx.dave.account });
      expect((await health(fx, addr(fx.alice))).health >= 0n).to.equal(true);
      await expectSolvent(fx);
    });

    it("a short position: exact amounts against the sdk at an odd mark, rounding remainder to insurance", async () => {
      const fx = await loadFixture(aliceShortFixture);
      const mark = price("63123.456789");
      await setMark(fx, BTC, mark);
      const alice0 = await stateOf(fx, addr(fx.alice));
      const marks = new Map([[BTC, mark]]);
      const h = await health(fx, addr(fx.alice));
      expect(h.equity).to.equal(equity(alice0, marks));
      expect(h.maintenance).to.equal(maintenanceRequirement(alice0, marks, RISKS));
      const max = await fx.ext.read.maxLiquidationSize([addr(fx.alice), BTC]);
      expect(max).to.equal(maxLiquidationSizeOf(alice0, BTC, marks, RISKS, BTC_LOT));
      const carol0 = await stateOf(fx, addr(fx.carol));
      const o = applyLiquidation(alice0, carol0, BTC, max, mark, MMF);
      // max * mark is not a whole number of quote units here: carol (selling) gets the floor, alice pays the
      // ceiling, the unit of difference goes to the insurance fund.
      expect((max * mark) % 100_000_000n).to.not.equal(0n);
      expect(o.amounts.insuranceCredit - (o.amounts.penalty - o.amounts.liquidatorReward)).to.equal(1n);
      await fx.ext.write.liquidate([addr(fx.alice), BTC, max], { account: fx.carol.account });
      expect(await stateOf(fx, addr(fx.alice))).to.deep.equal(o.account);
      expect(await stateOf(fx, addr(fx.carol))).to.deep.equal(o.liquidator);
      expect(await fx.ext.read.insuranceFund()).to.equal(o.amounts.insuranceCredit);
      expect((await health(fx, addr(fx.alice))).health >= 0n).to.equal(true);
      await expectSolvent(fx);
    });

    it("pending funding counts in the health check and is settled into cash by the liquidation", async () => {
      const fx = await loadFixture(aliceLongFixture);
      await fx.ext.write.updateFunding([BTC, 1_000_000n]); // starts the clock (applied 250,000, accrues nothing)
      await time.increase(3600);
      await setMark(fx, BTC, price("60000"));
      await fx.ext.write.updateFunding([BTC, 1_000_000n]); // applied 500,000 (0.05%) over one interval
      const owed = await fx.ext.read.pendingFunding([addr(fx.alice), BTC]);
      expect(owed).to.equal(usd("480")); // 0.05% of 960,000
      // At 56,600 alice would be healthy without funding (45,600 vs 45,280) but owes 480: health -160.
      await setMark(fx, BTC, price("56600"));
      expect(await health(fx, addr(fx.alice))).to.deep.equal({
        equity: usd("45120"),
        maintenance: usd("45280"),
        health: usd("-160"),
      });
      const max = await fx.ext.read.maxLiquidationSize([addr(fx.alice), BTC]);
      expect(max).to.equal(maxLiquidationSize(usd("45120"), usd("45280"), size("16"), price("56600"), MMF, BTC_LOT));
      const cash0 = await cashOf(fx, addr(fx.alice));
      const o = applyLiquidation(
        { cash: cash0 - owed, positions: new Map([[BTC, size("16")]]) },
        { cash: 0n, positions: new Map() },
        BTC,
        max,
        price("56600"),
        MMF,
      );
      await fx.ext.write.liquidate([addr(fx.alice), BTC, max], { account: fx.carol.account });
      expect(await cashOf(fx, addr(fx.alice))).to.equal(cash0 - owed + o.amounts.accountCashDelta);
      expect(await fx.ext.read.pendingFunding([addr(fx.alice), BTC])).to.equal(0n);
      expect((await health(fx, addr(fx.alice))).health >= 0n).to.equal(true);
      await expectSolvent(fx, 1n); // funding paid by alice is rounded up, what bob receives is not
    });
  });

  describe("bankrupt accounts and bad debt", () => {
    it("takes the whole position; the insurance fund covers the bad debt", async () => {
      const fx = await loadFixture(aliceLongFixture);
      await fx.token.write.approve([fx.exchange.address, usd("50000")], { account: fx.dave.account });
      const dep = await sent(fx, await fx.ext.write.depositInsurance([usd("50000")], { account: fx.dave.account }));
      expect(eventsNamed(dep.events as never, "InsuranceDeposited")[0]).to.deep.include({
        args: { from: addr(fx.dave), amount: usd("50000") },
      });
      await setMark(fx, BTC, price("53000"));
      // equity -860,000 + 848,000 = -12,000 < 0: bankrupt, the whole position may go
      expect((await health(fx, addr(fx.alice))).equity).to.equal(usd("-12000"));
      expect(await fx.ext.read.maxLiquidationSize([addr(fx.alice), BTC])).to.equal(size("16"));
      const r = await sent(
        fx,
        await fx.ext.write.liquidate([addr(fx.alice), BTC, size("16")], { account: fx.carol.account }),
      );
      // penalty 2.5% of 848,000 = 21,200: alice -860,000 + 848,000 - 21,200 = -33,200 of bad debt.
      // insurance: 50,000 + 10,600 (its half of the penalty) - 33,200 = 27,400.
      const bad = eventsNamed(r.events as never, "BadDebt") as unknown as { args: unknown }[];
      expect(bad.map((e) => e.args)).to.deep.equal([
        {
          account: addr(fx.alice),
          market: BTC,
          amount: usd("33200"),
          coveredByInsurance: usd("33200"),
          socialised: 0n,
        },
      ]);
      expect(await cashOf(fx, addr(fx.alice))).to.equal(0n);
      expect((await fx.exchange.read.accountOf([addr(fx.alice)]))[2]).to.equal(0n); // no open market
      expect(await fx.ext.read.insuranceFund()).to.equal(usd("27400"));
      expect(await cashOf(fx, addr(fx.carol))).to.equal(usd("100000") - usd("848000") + usd("10600"));
      expect(await positionOf(fx, addr(fx.carol))).to.equal(size("16"));
      expect(await fx.ext.read.pendingFunding([addr(fx.bob), BTC])).to.equal(0n);
      await expectSolvent(fx);
      console.log(`      liquidation gas (bankrupt, whole position, insurance covers): ${r.gasUsed}`);
    });

    it("insurance short: the rest is socialised on the other side and shows in its pending funding", async () => {
      const fx = await loadFixture(aliceLongFixture);
      await setMark(fx, BTC, price("53000"));
      const bobHealth0 = await health(fx, addr(fx.bob));
      const r = await sent(
        fx,
        await fx.ext.write.liquidate([addr(fx.alice), BTC, size("16")], { account: fx.carol.account }),
      );
      // bad debt 33,200; the fund holds only this liquidation's 10,600; 22,600 is charged to the shorts (bob).
      const bad = eventsNamed(r.events as never, "BadDebt") as unknown as { args: unknown }[];
      expect(bad.map((e) => e.args)).to.deep.equal([
        {
          account: addr(fx.alice),
          market: BTC,
          amount: usd("33200"),
          coveredByInsurance: usd("10600"),
          socialised: usd("22600"),
        },
      ]);
      const delta = socialLossDelta(usd("22600"), size("16"));
      expect((await fx.ext.read.fundingState([BTC]))[1]).to.equal(-delta);
      expect(await fx.ext.read.pendingFunding([addr(fx.bob), BTC])).to.equal(
        (size("16") * delta + FUNDING_INDEX_DIVISOR - 1n) / FUNDING_INDEX_DIVISOR,
      );
      expect(await fx.ext.read.pendingFunding([addr(fx.bob), BTC])).to.equal(usd("22600"));
      // the longs (carol, who took alice's position) are not charged
      expect(await fx.ext.read.pendingFunding([addr(fx.carol), BTC])).to.equal(0n);
      expect((await health(fx, addr(fx.bob))).equity).to.equal(bobHealth0.equity - usd("22600"));
      expect(await fx.ext.read.insuranceFund()).to.equal(0n);
      expect(await cashOf(fx, addr(fx.alice))).to.equal(0n);
      await expectSolvent(fx);
      console.log(`      liquidation gas (bankrupt, insurance short, socialised): ${r.gasUsed}`);
    });

    it("a bankrupt account with two markets: bad debt only once the last position is gone", async () => {
      const fx = await loadFixture(aliceLongFixture);
      await trade(fx, fx.alice, fx.dave, size("10"), price("3000"), ETH);
      await setMark(fx, BTC, price("53000"));
      // 30,000 ETH notional costs alice 30,000 in cash too: equity -12,000 (BTC) + 0 (ETH at 3,000)
      expect((await health(fx, addr(fx.alice))).equity < 0n).to.equal(true);
      await fx.ext.write.liquidate([addr(fx.alice), BTC, size("16")], { account: fx.carol.account });
      expect((await cashOf(fx, addr(fx.alice))) < 0n).to.equal(true); // still holds ETH: no bad debt yet
      expect(await fx.ext.read.insuranceFund()).to.equal(usd("10600"));
      const r = await sent(
        fx,
        await fx.ext.write.liquidate([addr(fx.alice), ETH, size("10")], { account: fx.bob.account }),
      );
      const bad = eventsNamed(r.events as never, "BadDebt") as unknown as { args: Record<string, unknown> }[];
      expect(bad).to.have.length(1);
      expect(bad[0].args.market).to.equal(ETH);
      expect(await cashOf(fx, addr(fx.alice))).to.equal(0n);
      // ETH penalty 2.5% of 30,000 = 750; debt = 33,200 + 750 = 33,950; fund 10,600 + 375
      expect(bad[0].args.amount).to.equal(usd("33950"));
      expect(bad[0].args.coveredByInsurance).to.equal(usd("10975"));
      expect(bad[0].args.socialised).to.equal(usd("22975"));
      // charged to the ETH shorts (dave), the side opposite alice's ETH long
      expect(await fx.ext.read.pendingFunding([addr(fx.dave), ETH])).to.equal(usd("22975"));
      await expectSolvent(fx);
    });
  });

  describe("who may liquidate, and when", () => {
    it("a liquidator without margin is refused; one reducing its own position is not", async () => {
      const fx = await loadFixture(aliceLongFixture);
      await setMark(fx, BTC, price("56500"));
      const snap = await snapshot(fx);
      await expectRevert(
        fx.ext.write.liquidate([addr(fx.alice), BTC, BTC_LOT], { account: fx.stranger.account }),
        "LiquidatorMarginCheckFailed",
      );
      expect(await snapshot(fx)).to.deep.equal(snap);
      // bob is short 16: buying alice's long shrinks his risk, so the rule only asks health not to fall
      await fx.ext.write.liquidate([addr(fx.alice), BTC, size("0.8496")], { account: fx.bob.account });
      expect(await positionOf(fx, addr(fx.bob))).to.equal(-size("16") + size("0.8496"));
      await expectSolvent(fx);
    });

    it("refuses self-liquidation, a flat market, a zero or off-lot size, an unknown market", async () => {
      const fx = await loadFixture(aliceLongFixture);
      await setMark(fx, BTC, price("56500"));
      await expectRevert(
        fx.ext.write.liquidate([addr(fx.alice), BTC, BTC_LOT], { account: fx.alice.account }),
        "SelfLiquidation",
        [addr(fx.alice)],
      );
      await expectRevert(
        fx.ext.write.liquidate([addr(fx.alice), ETH, size("0.001")], { account: fx.carol.account }),
        "NoPositionToLiquidate",
        [addr(fx.alice), ETH],
      );
      await expectRevert(
        fx.ext.write.liquidate([addr(fx.alice), BTC, 0n], { account: fx.carol.account }),
        "InvalidLiquidationSize",
        [0n, BTC_LOT],
      );
      await expectRevert(
        fx.ext.write.liquidate([addr(fx.alice), BTC, BTC_LOT + 1n], { account: fx.carol.account }),
        "InvalidLiquidationSize",
        [BTC_LOT + 1n, BTC_LOT],
      );
      await expectRevert(
        fx.ext.write.liquidate([addr(fx.alice), 7, BTC_LOT], { account: fx.carol.account }),
        "UnknownMarket",
        [7],
      );
    });

    it("a stale or insane oracle (of any market the account holds) refuses, and nothing moves", async () => {
      const fx = await loadFixture(aliceLongFixture);
      await trade(fx, fx.alice, fx.dave, size("1"), price("3000"), ETH);
      await setMark(fx, BTC, price("56000"));
      expect((await health(fx, addr(fx.alice))).health < 0n).to.equal(true);
      const snap = await snapshot(fx);
      const now = BigInt(await time.latest());
      const liq = () => fx.ext.write.liquidate([addr(fx.alice), BTC, BTC_LOT], { account: fx.carol.account });

      await fx.btcFeed.write.setAnswerAt([price("56000") * 100n, now - 3601n]);
      await expectRevert(liq(), "OracleStale");
      await expectRevert(fx.ext.read.maxLiquidationSize([addr(fx.alice), BTC]), "OracleStale");
      await setMark(fx, BTC, price("999")); // below the market's minPrice of 1,000
      await expectRevert(liq(), "OraclePriceOutOfBounds");
      await fx.btcFeed.write.setBroken([true]);
      await expectRevert(liq(), "OracleStale");
      await fx.btcFeed.write.setBroken([false]);
      await setMark(fx, BTC, price("56000"));
      // the BTC feed is fine but alice also holds ETH, whose feed is stale: her health cannot be judged
      await fx.ethFeed.write.setAnswerAt([price("3000") * 100n, now - 3601n]);
      await expectRevert(liq(), "OracleStale");
      expect(await snapshot(fx)).to.deep.equal(snap);
      // the liquidator's own feeds count too: carol holds ETH from now on, and its feed goes stale
      await setMark(fx, ETH, price("3000"));
      await trade(fx, fx.carol, fx.bob, size("1"), price("3000"), ETH);
      await fx.ethFeed.write.setAnswerAt([price("3000") * 100n, now - 3601n]);
      await expectRevert(liq(), "OracleStale");
      await setMark(fx, ETH, price("3000"));
      await liq();
    });

    it("works while the guardian has paused trading", async () => {
      const fx = await loadFixture(aliceLongFixture);
      await fx.ext.write.pause({ account: fx.guardian.account });
      await setMark(fx, BTC, price("56500"));
      const m = await makeOrder(fx, fx.bob, { isBuy: false, price: price("56500"), size: BTC_LOT });
      const t = await makeOrder(fx, fx.carol, { isBuy: true, price: price("56500"), size: BTC_LOT });
      await expectRevert(settle(fx, [m, t], [fill(0, 1, BTC_LOT, price("56500"))]), "ExchangePaused");
      await fx.ext.write.liquidate([addr(fx.alice), BTC, size("0.8496")], { account: fx.carol.account });
      expect(await positionOf(fx, addr(fx.carol))).to.equal(size("0.8496"));
    });

    it("refuses once the Exchange is frozen, like insurance deposits and fee moves", async () => {
      const fx = await loadFixture(aliceLongFixture);
      await fx.ext.write.requestForcedExit([0n], { account: fx.bob.account });
      const grace = (await fx.ext.read.exitParams()).forcedExitGracePeriod;
      await time.increase(grace + 1);
      await fx.ext.write.freeze([addr(fx.bob)], { account: fx.stranger.account });
      await setMark(fx, BTC, price("56500"));
      await expectRevert(
        fx.ext.write.liquidate([addr(fx.alice), BTC, BTC_LOT], { account: fx.carol.account }),
        "ExchangeFrozen",
      );
      await fx.token.write.approve([fx.exchange.address, usd("1")], { account: fx.dave.account });
      await expectRevert(fx.ext.write.depositInsurance([usd("1")], { account: fx.dave.account }), "ExchangeFrozen");
      await expectRevert(fx.ext.write.moveFeesToInsurance([1n], { account: fx.treasurer.account }), "ExchangeFrozen");
    });
  });

  describe("insurance fund", () => {
    it("anyone deposits; the treasurer (only) moves accrued fees in; no one takes it out", async () => {
      const fx = await loadFixture(deployFixture);
      await fx.token.write.approve([fx.exchange.address, usd("100")], { account: fx.stranger.account });
      await expectRevert(
        fx.ext.write.depositInsurance([usd("100")], { account: fx.stranger.account }),
        "ERC20InsufficientBalance",
      );
      await fx.token.write.mint([addr(fx.stranger), usd("100")]);
      await expectRevert(fx.ext.write.depositInsurance([0n], { account: fx.stranger.account }), "ZeroAmount");
      await fx.ext.write.depositInsurance([usd("100")], { account: fx.stranger.account });
      expect(await fx.ext.read.insuranceFund()).to.equal(usd("100"));

      // fees: a trade at full fee rates
      const m = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("1") });
      const t = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("1") });
      await settle(fx, [m, t], [fill(0, 1, size("1"), price("60000"))]);
      const fees = await fx.exchange.read.feesAccrued();
      expect(fees).to.equal(usd("24")); // 30 taker - 6 maker rebate
      await expectRevert(
        fx.ext.write.moveFeesToInsurance([usd("1")], { account: fx.stranger.account }),
        "AccessControlUnauthorizedAccount",
      );
      await expectRevert(
        fx.ext.write.moveFeesToInsurance([fees + 1n], { account: fx.treasurer.account }),
        "InsufficientFees",
        [fees + 1n, fees],
      );
      await expectRevert(fx.ext.write.moveFeesToInsurance([0n], { account: fx.treasurer.account }), "InsufficientFees");
      const r = await sent(fx, await fx.ext.write.moveFeesToInsurance([usd("20")], { account: fx.treasurer.account }));
      expect(eventsNamed(r.events as never, "FeesMovedToInsurance")[0]).to.deep.include({
        args: { treasurer: addr(fx.treasurer), amount: usd("20") },
      });
      expect(await fx.exchange.read.feesAccrued()).to.equal(usd("4"));
      expect(await fx.ext.read.insuranceFund()).to.equal(usd("120"));
      // no function of either ABI pays the insurance fund out
      const names = [...fx.exchange.abi, ...fx.ext.abi]
        .filter((x) => x.type === "function" && x.stateMutability !== "view" && x.stateMutability !== "pure")
        .map((x) => (x as { name: string }).name);
      expect(names.filter((n) => /insurance/i.test(n)).sort()).to.deep.equal([
        "depositInsurance",
        "moveFeesToInsurance",
      ]);
      await expectSolvent(fx);
    });

    it("the forced-exit fee is credited to the fund", async () => {
      const fx = await loadFixture(aliceLongFixture);
      const fee = (await fx.ext.read.exitParams()).forcedExitFee;
      await fx.ext.write.requestForcedExit([0n], { account: fx.alice.account });
      expect(await fx.ext.read.insuranceFund()).to.equal(fee);
      await expectSolvent(fx);
    });
  });
});
