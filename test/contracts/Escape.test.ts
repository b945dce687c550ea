// Forced exit, freeze and escape: forced requests (fee to insurance, one per account), serving them (any
// account at the oracle mark, or the operator's batches), spam that cannot freeze a serving operator, freeze
// after the grace period with the fixed final-price rule (oracle failure included), everything that stops
// once frozen, and the two-transaction escape (full and pro rata), with its gas.
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { encodeAbiParameters, keccak256, parseAbiParameters, stringToBytes } from "viem";
import {
  BTC,
  DEPOSIT,
  ETH,
  type Fx,
  addr,
  cashOf,
  deployFixture,
  eventsNamed,
  expectRevert,
  fastWithdraw,
  fill,
  makeOrder,
  positionOf,
  price,
  sent,
  settle,
  size,
  usd,
} from "./helpers";

const FEE = usd("10"); // default forcedExitFee
const GRACE = 2n * 86_400n;
const WINDOW = 7n * 86_400n;
const BTC_ANSWER = (p: bigint) => p * 10n ** 8n; // 8-decimal feed answer for a whole-dollar price

type W = Fx["alice"];

/** `buyer` buys `btc` BTC from `seller` at `px` (full fee rates); asserts it settled. */
async function trade(fx: Fx, seller: W, buyer: W, btc: string, px = "60000") {
  const m = await makeOrder(fx, seller, { isBuy: false, price: price(px), size: size(btc) });
  const t = await makeOrder(fx, buyer, { isBuy: true, price: price(px), size: size(btc) });
  const r = await settle(fx, [m, t], [fill(0, 1, size(btc), price(px))]);
  expect(eventsNamed(r.events, "FillSettled"), "trade settled").to.have.length(1);
}

/** Claim the contract computes: max(0, cash + floor(size * price / 1e8)) over BTC (no funding in these tests). */
async function expectedClaim(fx: Fx, who: W, btcPrice: bigint) {
  const cash = await cashOf(fx, addr(who));
  const s = await positionOf(fx, addr(who), BTC);
  const prod = s * btcPrice;
  const value = prod >= 0n ? prod / 100_000_000n : -((-prod + 99_999_999n) / 100_000_000n);
  const equity = cash + value;
  return { equity, claim: equity > 0n ? equity : 0n };
}

async function freezeAfterGrace(fx: Fx, who: W) {
  await time.increase(GRACE + 1n);
  // Feeds keep updating while the operator is gone (Chainlink is not ours).
  await fx.btcFeed.write.setAnswer([await fx.btcFeed.read.answer()]);
  await fx.ethFeed.write.setAnswer([await fx.ethFeed.read.answer()]);
  return sent(fx, await fx.ext.write.freeze([addr(who)], { account: fx.stranger.account }));
}

describe("Exchange: forced exit, freeze and escape", () => {
  let fx: Fx;
  beforeEach(async () => {
    fx = await loadFixture(deployFixture);
  });

  it("the storage namespace is ERC-7201 perpx.storage.Exit", async () => {
    const inner = BigInt(keccak256(stringToBytes("perpx.storage.Exit"))) - 1n;
    const slot = BigInt(keccak256(encodeAbiParameters(parseAbiParameters("uint256"), [inner]))) & ~0xffn;
    expect(slot).to.equal(0x585899113e0b673291431b6020db3dda5528bb2387557cd4ac9342362d97ce00n);
  });

  describe("forced request", () => {
    it("needs a position; charges the fee into the insurance fund; one open request per account", async () => {
      await expectRevert(fx.ext.write.requestForcedExit([0n], { account: fx.carol.account }), "NoPosition", [
        addr(fx.carol),
      ]);
      await trade(fx, fx.bob, fx.alice, "1");
      const cash = await cashOf(fx, addr(fx.alice));
      const insurance = await fx.ext.read.insuranceFund();
      const { events } = await sent(
        fx,
        await fx.ext.write.requestForcedExit([usd("100")], { account: fx.alice.account }),
      );
      const now = BigInt(await time.latest());
      expect(eventsNamed(events as never, "ForcedExitRequested")[0].args).to.deep.equal({
        account: addr(fx.alice),
        fee: FEE,
        withdrawAmount: usd("100"),
        freezableAfter: now + GRACE,
      });
      expect(await cashOf(fx, addr(fx.alice))).to.equal(cash - FEE);
      expect(await fx.ext.read.insuranceFund()).to.equal(insurance + FEE);
      // The slow withdrawal was filed with it.
      expect((await fx.ext.read.withdrawalState([addr(fx.alice)]))[1]).to.equal(usd("100"));
      expect(await fx.ext.read.exitOf([addr(fx.alice)])).to.deep.equal([now + GRACE, 0, 0n]);
      await expectRevert(fx.ext.write.requestForcedExit([0n], { account: fx.alice.account }), "ForcedExitOpen", [
        addr(fx.alice),
        now + GRACE,
      ]);
      await expectRevert(
        fx.ext.write.freeze([addr(fx.alice)], { account: fx.stranger.account }),
        "GracePeriodNotOver",
        [addr(fx.alice), now + GRACE, now + 2n], // the reverted request above mined a block
      );
    });

    it("any account serves it: takes the whole position at the oracle mark, margin-checked; then no freeze", async () => {
      await trade(fx, fx.bob, fx.alice, "1");
      await fx.btcFeed.write.setAnswer([BTC_ANSWER(61_000n)]);
      await fx.ext.write.requestForcedExit([0n], { account: fx.alice.account });
      await expectRevert(
        fx.ext.write.serveForcedExit([addr(fx.alice), BTC], { account: fx.alice.account }),
        "CannotServeSelf",
      );
      await expectRevert(
        fx.ext.write.serveForcedExit([addr(fx.bob), BTC], { account: fx.carol.account }),
        "NoForcedExit",
        [addr(fx.bob)],
      );
      await expectRevert(
        fx.ext.write.serveForcedExit([addr(fx.alice), ETH], { account: fx.carol.account }),
        "NoPosition",
        [addr(fx.alice)],
      );
      // dave keeps 5,000: too little initial margin (6,100) for a 61,000 position.
      await fastWithdraw(fx, fx.dave, DEPOSIT - usd("5000"));
      await expectRevert(
        fx.ext.write.serveForcedExit([addr(fx.alice), BTC], { account: fx.dave.account }),
        "InsufficientMargin",
      );
      const [aliceCash, carolCash, fees] = [
        await cashOf(fx, addr(fx.alice)),
        await cashOf(fx, addr(fx.carol)),
        await fx.exchange.read.feesAccrued(),
      ];
      const { events } = await sent(
        fx,
        await fx.ext.write.serveForcedExit([addr(fx.alice), BTC], { account: fx.carol.account }),
      );
      expect(eventsNamed(events as never, "ForcedExitTakeover")[0].args).to.deep.equal({
        account: addr(fx.alice),
        taker: addr(fx.carol),
        market: BTC,
        size: size("1"),
        price: price("61000"),
      });
      expect(eventsNamed(events as never, "ForcedExitServed")).to.have.length(1);
      expect(await positionOf(fx, addr(fx.alice))).to.equal(0n);
      expect(await positionOf(fx, addr(fx.carol))).to.equal(size("1"));
      expect(await cashOf(fx, addr(fx.alice))).to.equal(aliceCash + usd("61000"));
      expect(await cashOf(fx, addr(fx.carol))).to.equal(carolCash - usd("61000"));
      expect(await fx.exchange.read.feesAccrued()).to.equal(fees); // exact notional: no remainder
      expect((await fx.ext.read.exitOf([addr(fx.alice)]))[0]).to.equal(0n);
      await time.increase(GRACE + 1n);
      await expectRevert(fx.ext.write.freeze([addr(fx.alice)], { account: fx.stranger.account }), "NoForcedExit");
    });

    it("a short is served too (the taker sells; rounding remainder to the fee pool)", async () => {
      await trade(fx, fx.alice, fx.bob, "0.0001", "60000.1"); // alice short 0.0001
      await fx.btcFeed.write.setAnswer([6_000_012_345_678n]); // 60,000.123456
      await fx.ext.write.requestForcedExit([0n], { account: fx.alice.account });
      const [aliceCash, carolCash, fees] = [
        await cashOf(fx, addr(fx.alice)),
        await cashOf(fx, addr(fx.carol)),
        await fx.exchange.read.feesAccrued(),
      ];
      await fx.ext.write.serveForcedExit([addr(fx.alice), BTC], { account: fx.carol.account });
      // notional 0.0001 * 60,000.123456 = 6.0000123456: alice (buyer) pays 6.000013, carol gets 6.000012.
      expect(await cashOf(fx, addr(fx.alice))).to.equal(aliceCash - 6_000_013n);
      expect(await cashOf(fx, addr(fx.carol))).to.equal(carolCash + 6_000_012n);
      expect(await fx.exchange.read.feesAccrued()).to.equal(fees + 1n);
      expect(await positionOf(fx, addr(fx.carol))).to.equal(-size("0.0001"));
    });

    it("oracle failure: the request still files; serving at a stale or insane mark is refused", async () => {
      await trade(fx, fx.bob, fx.alice, "1");
      const now = BigInt(await time.latest());
      await fx.btcFeed.write.setAnswerAt([BTC_ANSWER(60_000n), now - 4000n]);
      await fx.ext.write.requestForcedExit([0n], { account: fx.alice.account });
      await expectRevert(
        fx.ext.write.serveForcedExit([addr(fx.alice), BTC], { account: fx.carol.account }),
        "OracleStale",
      );
      await fx.btcFeed.write.setAnswer([BTC_ANSWER(20_000_000n)]);
      await expectRevert(
        fx.ext.write.serveForcedExit([addr(fx.alice), BTC], { account: fx.carol.account }),
        "OraclePriceOutOfBounds",
      );
      // Nothing moved; once the feed is sane again the request can be served.
      expect(await positionOf(fx, addr(fx.alice))).to.equal(size("1"));
      await fx.btcFeed.write.setAnswer([BTC_ANSWER(60_000n)]);
      await fx.ext.write.serveForcedExit([addr(fx.alice), BTC], { account: fx.carol.account });
      expect(await positionOf(fx, addr(fx.alice))).to.equal(0n);
    });

    it("the operator serves by a batch; clearForcedExit closes the request; then no freeze", async () => {
      await trade(fx, fx.bob, fx.alice, "1");
      await fx.ext.write.requestForcedExit([0n], { account: fx.alice.account });
      await expectRevert(
        fx.ext.write.clearForcedExit([addr(fx.alice)], { account: fx.keeper.account }),
        "AccountHasPositions",
      );
      await trade(fx, fx.alice, fx.carol, "1");
      const { events } = await sent(
        fx,
        await fx.ext.write.clearForcedExit([addr(fx.alice)], { account: fx.keeper.account }),
      );
      expect(eventsNamed(events as never, "ForcedExitServed")[0].args).to.deep.equal({ account: addr(fx.alice) });
      await time.increase(GRACE + 1n);
      await expectRevert(fx.ext.write.freeze([addr(fx.alice)], { account: fx.stranger.account }), "NoForcedExit");
    });

    it("spam: many requests (a fee and one open request each) served in time cannot freeze the Exchange", async () => {
      const spammers = (await hre.viem.getWalletClients()).slice(10, 18);
      for (const w of spammers) {
        await fx.token.write.mint([addr(w), usd("1000")]);
        await fx.token.write.approve([fx.exchange.address, usd("1000")], { account: w.account });
        await fx.exchange.write.deposit([usd("1000")], { account: w.account });
      }
      // Each spammer buys 0.001 BTC from bob in one batch.
      const orders = [];
      const fills = [];
      for (const w of spammers) {
        orders.push(await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.001") }));
        orders.push(await makeOrder(fx, w, { isBuy: true, price: price("60000"), size: size("0.001") }));
        fills.push(fill(orders.length - 2, orders.length - 1, size("0.001"), price("60000")));
      }
      await settle(fx, orders, fills);
      const insurance = await fx.ext.read.insuranceFund();
      for (const w of spammers) {
        await fx.ext.write.requestForcedExit([0n], { account: w.account });
        await expectRevert(fx.ext.write.requestForcedExit([0n], { account: w.account }), "ForcedExitOpen");
      }
      expect(await fx.ext.read.insuranceFund()).to.equal(insurance + FEE * BigInt(spammers.length));
      // The operator serves half through the market maker's takeover and half by one batch, then clears them.
      const half = spammers.length / 2;
      for (const w of spammers.slice(0, half)) {
        await fx.ext.write.serveForcedExit([addr(w), BTC], { account: fx.bob.account });
      }
      const closing = [];
      const closeFills = [];
      for (const w of spammers.slice(half)) {
        closing.push(await makeOrder(fx, fx.bob, { isBuy: true, price: price("60000"), size: size("0.001") }));
        closing.push(await makeOrder(fx, w, { isBuy: false, price: price("60000"), size: size("0.001") }));
        closeFills.push(fill(closing.length - 2, closing.length - 1, size("0.001"), price("60000")));
      }
      await settle(fx, closing, closeFills);
      for (const w of spammers.slice(half)) {
        await fx.ext.write.clearForcedExit([addr(w)], { account: fx.keeper.account });
      }
      await time.increase(GRACE + 1n);
      for (const w of spammers) {
        await expectRevert(fx.ext.write.freeze([addr(w)], { account: fx.stranger.account }), "NoForcedExit", [addr(w)]);
      }
      expect(await fx.ext.read.frozen()).to.equal(false);
    });
  });

  describe("freeze", () => {
    it("after the grace period, by anyone; final prices = oracle marks; everything but the escape stops", async () => {
      await trade(fx, fx.bob, fx.alice, "1");
      await fx.ext.write.requestForcedExit([0n], { account: fx.alice.account });
      await fx.ext.write.requestWithdrawal([usd("1")], { account: fx.carol.account });
      const [freezableAfter] = await fx.ext.read.exitOf([addr(fx.alice)]);
      await time.increaseTo(freezableAfter - 10n);
      await fx.btcFeed.write.setAnswer([BTC_ANSWER(62_000n)]);
      await fx.ethFeed.write.setAnswer([BTC_ANSWER(3_000n)]);
      await time.setNextBlockTimestamp(freezableAfter); // the last second of the grace period
      await expectRevert(
        fx.ext.write.freeze([addr(fx.alice)], { account: fx.stranger.account }),
        "GracePeriodNotOver",
        [addr(fx.alice), freezableAfter, freezableAfter],
      );
      const { events } = await sent(fx, await fx.ext.write.freeze([addr(fx.alice)], { account: fx.stranger.account }));
      const frozenAt = freezableAfter + 1n;
      expect(eventsNamed(events as never, "Frozen")[0].args).to.deep.equal({
        by: addr(fx.stranger),
        account: addr(fx.alice),
        timestamp: frozenAt,
      });
      expect(eventsNamed(events as never, "FinalPriceSet").map((e) => e.args)).to.deep.equal([
        { market: BTC, price: price("62000"), source: 0 },
        { market: ETH, price: price("3000"), source: 0 },
      ]);
      expect(await fx.ext.read.frozen()).to.equal(true);
      expect((await fx.ext.read.exitStatus())[0]).to.equal(frozenAt);
      const frozen = ["ExchangeFrozen", [frozenAt]] as const;
      const o1 = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("1") });
      const o2 = await makeOrder(fx, fx.carol, { isBuy: true, price: price("60000"), size: size("1") });
      await expectRevert(settle(fx, [o1, o2], [fill(0, 1, size("1"), price("60000"))]), ...frozen);
      await fx.token.write.approve([fx.exchange.address, 1n], { account: fx.alice.account });
      await expectRevert(fx.exchange.write.deposit([1n], { account: fx.alice.account }), ...frozen);
      await expectRevert(
        fx.exchange.write.withdrawFees([addr(fx.treasurer), 1n], { account: fx.treasurer.account }),
        ...frozen,
      );
      await expectRevert(fastWithdraw(fx, fx.carol, 1n), ...frozen);
      await expectRevert(fx.ext.write.requestWithdrawal([1n], { account: fx.carol.account }), ...frozen);
      await time.increase(3600);
      await expectRevert(fx.ext.write.claimWithdrawal([addr(fx.carol)], { account: fx.carol.account }), ...frozen);
      await expectRevert(fx.ext.write.requestForcedExit([0n], { account: fx.bob.account }), ...frozen);
      await expectRevert(fx.ext.write.serveForcedExit([addr(fx.alice), BTC], { account: fx.carol.account }), ...frozen);
      await expectRevert(fx.ext.write.freeze([addr(fx.alice)], { account: fx.stranger.account }), ...frozen);
      const params = await fx.ext.read.exitParams();
      await expectRevert(fx.ext.write.setExitParams([params], { account: fx.admin.account }), ...frozen);
      await fx.btcFeed.write.setAnswer([BTC_ANSWER(62_000n)]);
      await expectRevert(fx.ext.write.updateFunding([BTC, 1000n], { account: fx.admin.account }), ...frozen);
      await expectRevert(
        fx.ext.write.liquidate([addr(fx.alice), BTC, size("1")], { account: fx.bob.account }),
        ...frozen,
      );
      await expectRevert(fx.ext.write.depositInsurance([1n], { account: fx.alice.account }), ...frozen);
      await expectRevert(fx.ext.write.moveFeesToInsurance([1n], { account: fx.treasurer.account }), ...frozen);
    });

    it("oracle failure at freeze: the last funding mark, else pending until a usable mark (fixFinalPrice)", async () => {
      await trade(fx, fx.bob, fx.alice, "1");
      await fx.ext.write.updateFunding([BTC, 0n], { account: fx.admin.account }); // records the mark 60,000
      await fx.btcFeed.write.setAnswer([BTC_ANSWER(61_000n)]);
      await fx.ext.write.requestForcedExit([0n], { account: fx.alice.account });
      await time.increase(GRACE + 1n);
      // BTC: insane answer at freeze -> last funding mark. ETH: stale, never funded -> pending.
      await fx.btcFeed.write.setAnswer([BTC_ANSWER(20_000_000n)]);
      const { events } = await sent(fx, await fx.ext.write.freeze([addr(fx.alice)], { account: fx.stranger.account }));
      expect(eventsNamed(events as never, "FinalPriceSet").map((e) => e.args)).to.deep.equal([
        { market: BTC, price: price("60000"), source: 1 },
      ]);
      expect((await fx.ext.read.escapeState([ETH]))[0]).to.equal(0n);
      await expectRevert(fx.ext.write.fixFinalPrice([BTC], { account: fx.stranger.account }), "FinalPriceAlreadySet");
      await expectRevert(fx.ext.write.fixFinalPrice([ETH], { account: fx.stranger.account }), "OracleStale");
      // An ETH holder could not register yet; nobody holds ETH here, so everyone registers.
      await fx.ext.write.escapeRegister([addr(fx.alice)], { account: fx.stranger.account });
      await fx.ethFeed.write.setAnswer([BTC_ANSWER(3_100n)]);
      const r = await sent(fx, await fx.ext.write.fixFinalPrice([ETH], { account: fx.stranger.account }));
      expect(eventsNamed(r.events as never, "FinalPriceSet")[0].args).to.deep.equal({
        market: ETH,
        price: price("3100"),
        source: 2,
      });
    });

    it("a market without any usable price blocks only the registration of its holders until fixed", async () => {
      const m = await makeOrder(fx, fx.bob, { market: ETH, isBuy: false, price: price("3000"), size: size("1") });
      const t = await makeOrder(fx, fx.alice, { market: ETH, isBuy: true, price: price("3000"), size: size("1") });
      await settle(fx, [m, t], [fill(0, 1, size("1"), price("3000"), { maker: 0n, taker: 500n })]);
      await fx.ext.write.requestForcedExit([0n], { account: fx.alice.account });
      await time.increase(GRACE + 1n);
      await fx.btcFeed.write.setAnswer([BTC_ANSWER(60_000n)]); // ETH stays stale
      await fx.ext.write.freeze([addr(fx.alice)], { account: fx.stranger.account });
      await expectRevert(fx.ext.write.escapeRegister([addr(fx.alice)]), "FinalPricePending", [ETH]);
      await fx.ext.write.escapeRegister([addr(fx.carol)]);
      await fx.ethFeed.write.setAnswer([BTC_ANSWER(3_000n)]);
      await fx.ext.write.fixFinalPrice([ETH]);
      await fx.ext.write.escapeRegister([addr(fx.alice)]);
      // After the window nothing more can be fixed or registered.
      await time.increase(WINDOW);
      await expectRevert(fx.ext.write.escapeRegister([addr(fx.bob)]), "ExitWindowClosed");
      await expectRevert(fx.ext.write.fixFinalPrice([BTC]), "ExitWindowClosed");
    });
  });

  describe("escape", () => {
    it("register in the window, claim after it: each account gets its equity at final prices (solvent)", async () => {
      await trade(fx, fx.bob, fx.alice, "1");
      await fx.ext.write.requestForcedExit([0n], { account: fx.alice.account });
      await fx.btcFeed.write.setAnswer([BTC_ANSWER(62_000n)]);
      await freezeAfterGrace(fx, fx.alice);
      await expectRevert(fx.ext.write.escapeClaim([addr(fx.alice)], { account: fx.alice.account }), "ExitWindowOpen");
      const users = [fx.alice, fx.bob, fx.carol, fx.dave];
      const claims = [];
      let gasRegister = 0n;
      for (const u of users) {
        const e = await expectedClaim(fx, u, price("62000"));
        claims.push(e.claim);
        const r = await sent(fx, await fx.ext.write.escapeRegister([addr(u)], { account: u.account }));
        expect(eventsNamed(r.events as never, "EscapeRegistered")[0].args).to.deep.equal({
          account: addr(u),
          equity: e.equity,
          claim: e.claim,
        });
        if (u === fx.alice) gasRegister = r.gasUsed;
      }
      await expectRevert(fx.ext.write.escapeRegister([addr(fx.alice)]), "AlreadyRegistered");
      await expectRevert(
        fx.ext.write.escapeClaim([addr(fx.stranger)], { account: fx.stranger.account }),
        "ExitWindowOpen",
      );
      await time.increase(WINDOW);
      await expectRevert(
        fx.ext.write.escapeClaim([addr(fx.stranger)], { account: fx.stranger.account }),
        "NotRegistered",
      );
      const held = await fx.token.read.balanceOf([fx.exchange.address]);
      const owedToHouse = (await fx.exchange.read.feesAccrued()) + (await fx.ext.read.insuranceFund());
      let gasClaim = 0n;
      for (const [i, u] of users.entries()) {
        const before = await fx.token.read.balanceOf([addr(u)]);
        const r = await sent(fx, await fx.ext.write.escapeClaim([addr(u)], { account: u.account }));
        expect(eventsNamed(r.events as never, "EscapeClaimed")[0].args).to.deep.equal({
          account: addr(u),
          to: addr(u),
          claim: claims[i],
          paid: claims[i],
        });
        expect(await fx.token.read.balanceOf([addr(u)])).to.equal(before + claims[i]);
        if (u === fx.alice) gasClaim = r.gasUsed;
      }
      await expectRevert(fx.ext.write.escapeClaim([addr(fx.alice)], { account: fx.alice.account }), "AlreadyClaimed");
      // Users took exactly their equity; what stays is the fee pool plus the insurance fund.
      const taken = claims.reduce((a, b) => a + b, 0n);
      expect(await fx.token.read.balanceOf([fx.exchange.address])).to.equal(held - taken);
      expect(held - taken).to.equal(owedToHouse);
      const total = gasRegister + gasClaim;
      console.log(`      escape gas (1 open position): register ${gasRegister} + claim ${gasClaim} = ${total}`);
      expect(Number(total)).to.be.at.most(200_000);
    });

    it("gas: escape of an account with positions in two markets stays under 200k", async () => {
      await trade(fx, fx.bob, fx.alice, "1");
      const m = await makeOrder(fx, fx.bob, { market: ETH, isBuy: false, price: price("3000"), size: size("1") });
      const t = await makeOrder(fx, fx.alice, { market: ETH, isBuy: true, price: price("3000"), size: size("1") });
      await settle(fx, [m, t], [fill(0, 1, size("1"), price("3000"), { maker: 0n, taker: 500n })]);
      await fx.ext.write.requestForcedExit([0n], { account: fx.alice.account });
      await freezeAfterGrace(fx, fx.alice);
      await fx.ext.write.escapeRegister([addr(fx.carol)], { account: fx.carol.account }); // not the first
      const reg = await sent(fx, await fx.ext.write.escapeRegister([addr(fx.alice)], { account: fx.alice.account }));
      await time.increase(WINDOW + 1n);
      const first = await sent(fx, await fx.ext.write.escapeClaim([addr(fx.carol)], { account: fx.carol.account }));
      const claim = await sent(fx, await fx.ext.write.escapeClaim([addr(fx.alice)], { account: fx.alice.account }));
      const total = reg.gasUsed + claim.gasUsed;
      console.log(
        `      escape gas (2 open positions): register ${reg.gasUsed} + claim ${claim.gasUsed} = ${total}` +
          ` (first claim of all, which fixes the pool: ${first.gasUsed})`,
      );
      expect(Number(total)).to.be.at.most(200_000);
    });

    it("pro rata when the pool is short; dust below one unit per claimant", async () => {
      await trade(fx, fx.bob, fx.alice, "10");
      await fx.ext.write.requestForcedExit([0n], { account: fx.alice.account });
      await fx.btcFeed.write.setAnswer([BTC_ANSWER(40_000n)]); // alice is 100,000 under water
      await freezeAfterGrace(fx, fx.alice);
      const users = [fx.alice, fx.bob, fx.carol, fx.dave];
      const claims = [];
      for (const u of users) {
        claims.push((await expectedClaim(fx, u, price("40000"))).claim);
        await fx.ext.write.escapeRegister([addr(u)], { account: fx.keeper.account });
      }
      expect(claims[0]).to.equal(0n);
      const total = claims.reduce((a, b) => a + b, 0n);
      await time.increase(WINDOW + 1n);
      const pool = await fx.token.read.balanceOf([fx.exchange.address]);
      expect(pool < total, `pool ${pool} < claims ${total}`).to.equal(true);
      let paid = 0n;
      for (const [i, u] of users.entries()) {
        const before = await fx.token.read.balanceOf([addr(u)]);
        await fx.ext.write.escapeClaim([addr(u)], { account: u.account });
        const got = (await fx.token.read.balanceOf([addr(u)])) - before;
        expect(got).to.equal((claims[i] * pool) / total);
        paid += got;
      }
      const [, totalClaims, recordedPool, fixed] = await fx.ext.read.escapeState([BTC]);
      expect([totalClaims, recordedPool, fixed]).to.deep.equal([total, pool, true]);
      const dust = pool - paid;
      expect(dust >= 0n && dust < BigInt(users.length), `dust ${dust}`).to.equal(true);
      expect(await fx.token.read.balanceOf([fx.exchange.address])).to.equal(dust);
    });
  });
});
