// Fast withdrawals (operator co-signed EIP-712, per-account nonce, margin-checked, stopped by pause) and
// slow withdrawals (request, bounded delay, claim margin-checked at claim, never paused); oracle failure.
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { keccak256, toBytes, zeroAddress } from "viem";
import {
  DEPOSIT,
  type Fx,
  addr,
  cashOf,
  deployFixture,
  eventsNamed,
  expectRevert,
  fastWithdraw,
  fill,
  makeOrder,
  price,
  sent,
  settle,
  size,
  usd,
  withdrawalSignature,
} from "./helpers";
import { WITHDRAWAL_TYPE_STRING } from "../../sdk/eip712";
import { feeCap } from "../../sdk/margin";

const HOUR = 3600n;

/** alice buys `btc` BTC from bob at 60,000; alice's taker fee equals bob's maker rebate. */
async function openLong(fx: Fx, btc = "1") {
  const m = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size(btc) });
  const t = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size(btc) });
  const rebate = feeCap(size(btc), price("60000"), -100n);
  const r = await settle(fx, [m, t], [fill(0, 1, size(btc), price("60000"), undefined, { takerFee: -rebate })]);
  expect(eventsNamed(r.events, "FillSettled")).to.have.length(1);
  return -rebate; // alice's fee
}

describe("Exchange: withdrawals", () => {
  let fx: Fx;
  beforeEach(async () => {
    fx = await loadFixture(deployFixture);
  });

  describe("fast (operator co-signed)", () => {
    it("the typehash is the sdk's", async () => {
      expect(await fx.ext.read.WITHDRAWAL_TYPEHASH()).to.equal(keccak256(toBytes(WITHDRAWAL_TYPE_STRING)));
    });

    it("pays at once with an operator signature, advances the nonce, emits Withdraw", async () => {
      const { events, gasUsed } = await sent(fx, await fastWithdraw(fx, fx.alice, usd("100"), addr(fx.stranger)));
      expect(eventsNamed(events as never, "Withdraw")[0].args).to.deep.equal({
        account: addr(fx.alice),
        to: addr(fx.stranger),
        amount: usd("100"),
      });
      expect(await fx.token.read.balanceOf([addr(fx.stranger)])).to.equal(usd("100"));
      expect((await fx.ext.read.withdrawalState([addr(fx.alice)]))[0]).to.equal(1n);
      console.log(`      fast withdrawal gas: ${gasUsed}`);
    });

    it("refuses a signature by a non-operator, a replay, another account, another amount or recipient", async () => {
      const to = addr(fx.alice);
      const amount = usd("10");
      const bad = await withdrawalSignature(fx, addr(fx.alice), amount, to, { signer: fx.alice });
      await expectRevert(
        fx.ext.write.withdraw([amount, to, bad.deadline, bad.signature], { account: fx.alice.account }),
        "NotOperatorSigned",
        [addr(fx.alice)],
      );
      const ok = await withdrawalSignature(fx, addr(fx.alice), amount, to);
      // Someone else presenting alice's co-signature: the digest names the caller, so no operator signed it.
      await expectRevert(
        fx.ext.write.withdraw([amount, to, ok.deadline, ok.signature], { account: fx.bob.account }),
        "NotOperatorSigned",
      );
      await expectRevert(
        fx.ext.write.withdraw([amount + 1n, to, ok.deadline, ok.signature], { account: fx.alice.account }),
        "NotOperatorSigned",
      );
      await expectRevert(
        fx.ext.write.withdraw([amount, addr(fx.bob), ok.deadline, ok.signature], { account: fx.alice.account }),
        "NotOperatorSigned",
      );
      await fx.ext.write.withdraw([amount, to, ok.deadline, ok.signature], { account: fx.alice.account });
      // Replay: the nonce moved on, the same signature recovers to some other address.
      await expectRevert(
        fx.ext.write.withdraw([amount, to, ok.deadline, ok.signature], { account: fx.alice.account }),
        "NotOperatorSigned",
      );
      await expectRevert(
        fx.ext.write.withdraw([amount, to, ok.deadline, "0x1234"], { account: fx.alice.account }),
        "NotOperatorSigned",
        [zeroAddress],
      );
      expect(await cashOf(fx, addr(fx.alice))).to.equal(DEPOSIT - amount);
    });

    it("refuses after the deadline, and once the operator key is revoked", async () => {
      const now = BigInt(await time.latest());
      const s = await withdrawalSignature(fx, addr(fx.alice), 1n, addr(fx.alice), { deadline: now + 5n });
      await time.increase(10);
      await expectRevert(
        fx.ext.write.withdraw([1n, addr(fx.alice), s.deadline, s.signature], { account: fx.alice.account }),
        "WithdrawalExpired",
        [now + 5n, now + 11n],
      );
      const live = await withdrawalSignature(fx, addr(fx.alice), 1n, addr(fx.alice));
      await fx.ext.write.revokeOperator([addr(fx.operator)], { account: fx.guardian.account });
      await expectRevert(
        fx.ext.write.withdraw([1n, addr(fx.alice), live.deadline, live.signature], { account: fx.alice.account }),
        "NotOperatorSigned",
        [addr(fx.operator)],
      );
    });

    it("is initial-margin-checked at the oracle mark; a stale or insane feed stops it; paused stops it", async () => {
      await openLong(fx, "10");
      const [equity, im] = await fx.exchange.read.accountHealth([addr(fx.alice)]);
      await expectRevert(fastWithdraw(fx, fx.alice, equity - im + 1n), "InsufficientMargin", [
        addr(fx.alice),
        im - 1n,
        im,
      ]);
      const now = BigInt(await time.latest());
      await fx.btcFeed.write.setAnswerAt([60_000n * 10n ** 8n, now - 4000n]);
      await expectRevert(fastWithdraw(fx, fx.alice, 1n), "OracleStale");
      await fx.btcFeed.write.setAnswer([1n]);
      await expectRevert(fastWithdraw(fx, fx.alice, 1n), "OraclePriceOutOfBounds");
      // carol holds no position: no feed needed.
      await fastWithdraw(fx, fx.carol, 1n);
      await fx.ext.write.pause({ account: fx.guardian.account });
      const [, pausedUntil] = await fx.ext.read.exitStatus();
      await expectRevert(fastWithdraw(fx, fx.carol, 1n), "ExchangePaused", [pausedUntil]);
    });
  });

  describe("slow (request, delay, claim)", () => {
    it("request -> WithdrawalRequested; claim only after the delay; pays and clears", async () => {
      const delay = BigInt((await fx.ext.read.exitParams()).slowWithdrawalDelay);
      expect(delay).to.equal(HOUR);
      const { events } = await sent(
        fx,
        await fx.ext.write.requestWithdrawal([usd("500")], { account: fx.carol.account }),
      );
      const now = BigInt(await time.latest());
      expect(eventsNamed(events as never, "WithdrawalRequested")[0].args).to.deep.equal({
        account: addr(fx.carol),
        amount: usd("500"),
        claimableAt: now + delay,
      });
      expect(await fx.ext.read.withdrawalState([addr(fx.carol)])).to.deep.equal([0n, usd("500"), now + delay]);
      await expectRevert(
        fx.ext.write.claimWithdrawal([addr(fx.carol)], { account: fx.carol.account }),
        "WithdrawalNotClaimable",
        [addr(fx.carol), now + delay, now + 1n],
      );
      await time.increaseTo(now + delay);
      const before = await fx.token.read.balanceOf([addr(fx.stranger)]);
      const r = await sent(fx, await fx.ext.write.claimWithdrawal([addr(fx.stranger)], { account: fx.carol.account }));
      console.log(`      slow withdrawal claim gas: ${r.gasUsed}`);
      expect(await fx.token.read.balanceOf([addr(fx.stranger)])).to.equal(before + usd("500"));
      expect(await cashOf(fx, addr(fx.carol))).to.equal(DEPOSIT - usd("500"));
      await expectRevert(
        fx.ext.write.claimWithdrawal([addr(fx.carol)], { account: fx.carol.account }),
        "NoPendingWithdrawal",
        [addr(fx.carol)],
      );
    });

    it("a new request replaces the pending one (and restarts the delay); cancel drops it; zero refused", async () => {
      await fx.ext.write.requestWithdrawal([usd("1")], { account: fx.carol.account });
      await time.increase(1800);
      await fx.ext.write.requestWithdrawal([usd("2")], { account: fx.carol.account });
      const [, amount, claimableAt] = await fx.ext.read.withdrawalState([addr(fx.carol)]);
      expect([amount, claimableAt]).to.deep.equal([usd("2"), BigInt(await time.latest()) + HOUR]);
      await fx.ext.write.cancelWithdrawal({ account: fx.carol.account });
      await expectRevert(fx.ext.write.cancelWithdrawal({ account: fx.carol.account }), "NoPendingWithdrawal");
      await expectRevert(fx.ext.write.requestWithdrawal([0n], { account: fx.carol.account }), "ZeroAmount");
    });

    it("is margin-checked at claim (at the mark then), refuses a stale feed, and is never paused", async () => {
      const fee = await openLong(fx, "10");
      await fx.ext.write.requestWithdrawal([usd("45000")], { account: fx.alice.account });
      await time.increase(HOUR);
      await fx.btcFeed.write.setAnswer([60_000n * 10n ** 8n]); // fresh again after the hour
      // IM 60,000 of equity 100,000 - fee: under 40,000 free, 45,000 asked.
      await expectRevert(
        fx.ext.write.claimWithdrawal([addr(fx.alice)], { account: fx.alice.account }),
        "InsufficientMargin",
      );
      // Stale feed: nothing leaves.
      const now = BigInt(await time.latest());
      await fx.btcFeed.write.setAnswerAt([61_000n * 10n ** 8n, now - 4000n]);
      await expectRevert(fx.ext.write.claimWithdrawal([addr(fx.alice)], { account: fx.alice.account }), "OracleStale");
      // BTC at 61,000: equity 110,000, IM 61,000, 49,000 free. Paused: the slow path still pays.
      await fx.btcFeed.write.setAnswer([61_000n * 10n ** 8n]);
      await fx.ext.write.pause({ account: fx.guardian.account });
      await fx.ext.write.claimWithdrawal([addr(fx.alice)], { account: fx.alice.account });
      expect(await cashOf(fx, addr(fx.alice))).to.equal(DEPOSIT - usd("600000") - fee - usd("45000"));
      // The request itself is not paused either.
      await fx.ext.write.requestWithdrawal([usd("1")], { account: fx.carol.account });
    });
  });
});
