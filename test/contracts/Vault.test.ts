// Collateral: deposits (own, on behalf, fee-on-transfer), margin-checked withdrawals (the fast, operator
// co-signed path; Withdrawals.test.ts covers signatures, nonces and the slow path), fee withdrawal,
// constructor checks and role checks.
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { zeroAddress } from "viem";
import {
  DEPOSIT,
  type Fx,
  addr,
  cashOf,
  decodeEvents,
  deployFixture,
  eventsNamed,
  expectRevert,
  fill,
  makeOrder,
  price,
  settle,
  size,
  usd,
  deployBareExchange,
  fastWithdraw,
} from "./helpers";

describe("Exchange: vault", () => {
  let fx: Fx;
  beforeEach(async () => {
    fx = await loadFixture(deployFixture);
  });

  async function receiptEvents(hash: `0x${string}`) {
    const r = await fx.publicClient.waitForTransactionReceipt({ hash });
    return decodeEvents(fx, r.logs);
  }

  describe("constructor", () => {
    it("refuses a collateral token without 6 decimals, a zero token and a zero admin", async () => {
      const t18 = await hre.viem.deployContract("MockERC20Decimals", [18]);
      const ext = await hre.viem.deployContract("ExchangeExtension", [fx.token.address]);
      await expectRevert(
        hre.viem.deployContract("Exchange", [t18.address, addr(fx.admin), ext.address]),
        "UnsupportedCollateralDecimals",
        [18],
      );
      await expectRevert(
        hre.viem.deployContract("ExchangeExtension", [t18.address]),
        "UnsupportedCollateralDecimals",
        [18],
      );
      await expectRevert(
        hre.viem.deployContract("Exchange", [zeroAddress, addr(fx.admin), ext.address]),
        "ZeroAddress",
      );
      await expectRevert(
        hre.viem.deployContract("Exchange", [fx.token.address, zeroAddress, ext.address]),
        "ZeroAddress",
      );
    });

    it("refuses an extension without code or built for another collateral", async () => {
      await expectRevert(
        hre.viem.deployContract("Exchange", [fx.token.address, addr(fx.admin), addr(fx.stranger)]),
        "ExtensionHasNoCode",
        [addr(fx.stranger)],
      );
      const other = await hre.viem.deployContract("MockUSD", []);
      const ext = await hre.viem.deployContract("ExchangeExtension", [other.address]);
      await expectRevert(
        hre.viem.deployContract("Exchange", [fx.token.address, addr(fx.admin), ext.address]),
        "ExtensionCollateralMismatch",
      );
    });

    it("delegates unknown selectors to the extension and reverts for ones neither knows", async () => {
      expect(await fx.exchange.read.extension()).to.not.equal(zeroAddress);
      // A selector neither contract has: the extension has no fallback, so the call reverts.
      let reverted = false;
      await fx.publicClient.call({ to: fx.exchange.address, data: "0xdeadbeef" }).catch(() => (reverted = true));
      expect(reverted).to.equal(true);
    });
  });

  describe("deposit", () => {
    it("credits the caller and emits Deposit", async () => {
      await fx.token.write.approve([fx.exchange.address, usd("250")], { account: fx.alice.account });
      const events = await receiptEvents(await fx.exchange.write.deposit([usd("250")], { account: fx.alice.account }));
      expect(eventsNamed(events, "Deposit")[0].args).to.deep.equal({
        account: addr(fx.alice),
        from: addr(fx.alice),
        amount: usd("250"),
      });
      expect(await cashOf(fx, addr(fx.alice))).to.equal(DEPOSIT + usd("250"));
      expect(await fx.token.read.balanceOf([fx.exchange.address])).to.equal(4n * DEPOSIT + usd("250"));
    });

    it("deposits on behalf of another account", async () => {
      await fx.token.write.approve([fx.exchange.address, usd("5")], { account: fx.alice.account });
      const events = await receiptEvents(
        await fx.exchange.write.depositFor([addr(fx.stranger), usd("5")], { account: fx.alice.account }),
      );
      expect(eventsNamed(events, "Deposit")[0].args).to.deep.equal({
        account: addr(fx.stranger),
        from: addr(fx.alice),
        amount: usd("5"),
      });
      expect(await cashOf(fx, addr(fx.stranger))).to.equal(usd("5"));
    });

    it("refuses the zero address and a zero amount", async () => {
      await expectRevert(fx.exchange.write.depositFor([zeroAddress, 1n], { account: fx.alice.account }), "ZeroAddress");
      await expectRevert(fx.exchange.write.deposit([0n], { account: fx.alice.account }), "ZeroAmount");
    });

    it("credits what arrived from a fee-on-transfer token; refuses when nothing arrives", async () => {
      const fot = await hre.viem.deployContract("FeeOnTransferToken", [100n]); // 1%
      const ex = await deployBareExchange(fot.address, addr(fx.admin));
      await fot.write.mint([addr(fx.alice), usd("1000")]);
      await fot.write.approve([ex.address, usd("1000")], { account: fx.alice.account });
      await ex.write.deposit([usd("1000")], { account: fx.alice.account });
      expect((await ex.read.accountOf([addr(fx.alice)]))[0]).to.equal(usd("990"));
      expect(await fot.read.balanceOf([ex.address])).to.equal(usd("990"));
      const all = await hre.viem.deployContract("FeeOnTransferToken", [10_000n]); // 100%
      const ex2 = await deployBareExchange(all.address, addr(fx.admin));
      await all.write.mint([addr(fx.alice), usd("1")]);
      await all.write.approve([ex2.address, usd("1")], { account: fx.alice.account });
      await expectRevert(ex2.write.deposit([usd("1")], { account: fx.alice.account }), "ZeroAmount");
    });
  });

  describe("withdraw (fast)", () => {
    it("pays out cash and emits Withdraw", async () => {
      const before = await fx.token.read.balanceOf([addr(fx.stranger)]);
      const events = await receiptEvents(await fastWithdraw(fx, fx.alice, usd("100"), addr(fx.stranger)));
      expect(eventsNamed(events, "Withdraw")[0].args).to.deep.equal({
        account: addr(fx.alice),
        to: addr(fx.stranger),
        amount: usd("100"),
      });
      expect(await fx.token.read.balanceOf([addr(fx.stranger)])).to.equal(before + usd("100"));
      expect(await cashOf(fx, addr(fx.alice))).to.equal(DEPOSIT - usd("100"));
    });

    it("refuses more than the cash of an account without positions", async () => {
      await expectRevert(fastWithdraw(fx, fx.alice, DEPOSIT + 1n, addr(fx.alice)), "InsufficientMargin", [
        addr(fx.alice),
        -1n,
        0n,
      ]);
      await fastWithdraw(fx, fx.alice, DEPOSIT, addr(fx.alice));
      expect(await cashOf(fx, addr(fx.alice))).to.equal(0n);
    });

    it("keeps the initial margin of open positions (at the oracle mark)", async () => {
      // alice buys 10 BTC @ 60,000 with zero net fees: IM 60,000; equity 100,000 - 60 (taker fee at the rebate).
      const m = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("10") });
      const t = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("10") });
      await settle(fx, [m, t], [fill(0, 1, size("10"), price("60000"), undefined, { takerFee: usd("60") })]);
      const [equity, im] = await fx.exchange.read.accountHealth([addr(fx.alice)]);
      expect([equity, im]).to.deep.equal([DEPOSIT - usd("60"), usd("60000")]);
      const free = equity - im;
      await expectRevert(fastWithdraw(fx, fx.alice, free + 1n, addr(fx.alice)), "InsufficientMargin", [
        addr(fx.alice),
        im - 1n,
        im,
      ]);
      await fastWithdraw(fx, fx.alice, free, addr(fx.alice));
      // Unrealised profit is withdrawable: BTC up 1,000 → +10,000 equity, IM +1,000.
      await fx.btcFeed.write.setAnswer([61_000n * 10n ** 8n]);
      await fastWithdraw(fx, fx.alice, usd("9000"), addr(fx.alice));
      await expectRevert(fastWithdraw(fx, fx.alice, 1n, addr(fx.alice)), "InsufficientMargin");
    });

    it("refuses while a feed the account depends on is stale or insane", async () => {
      const m = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("1") });
      const t = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("1") });
      await settle(fx, [m, t], [fill(0, 1, size("1"), price("60000"))]);
      const now = BigInt(await time.latest());
      await fx.btcFeed.write.setAnswerAt([60_000n * 10n ** 8n, now - 4000n]);
      await expectRevert(fastWithdraw(fx, fx.alice, 1n, addr(fx.alice)), "OracleStale", [0, now - 4000n, now + 2n]);
      await fx.btcFeed.write.setAnswer([20_000_000n * 10n ** 8n]);
      await expectRevert(fastWithdraw(fx, fx.alice, 1n, addr(fx.alice)), "OraclePriceOutOfBounds", [
        0,
        20_000_000n * 10n ** 8n,
      ]);
      // An account without positions does not depend on any feed.
      await fastWithdraw(fx, fx.carol, 1n, addr(fx.carol));
    });

    it("refuses the zero address and a zero amount", async () => {
      await expectRevert(fastWithdraw(fx, fx.alice, 1n, zeroAddress), "ZeroAddress");
      await expectRevert(fastWithdraw(fx, fx.alice, 0n, addr(fx.alice)), "ZeroAmount");
    });
  });

  describe("fees", () => {
    it("the treasurer withdraws accrued fees; nobody else can; never more than accrued", async () => {
      const m = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.5") });
      const t = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.5") });
      await settle(fx, [m, t], [fill(0, 1, size("0.5"), price("60000"))]);
      expect(await fx.exchange.read.feesAccrued()).to.equal(usd("12"));
      const role = await fx.exchange.read.TREASURER_ROLE();
      await expectRevert(
        fx.exchange.write.withdrawFees([addr(fx.stranger), 1n], { account: fx.stranger.account }),
        "AccessControlUnauthorizedAccount",
        [addr(fx.stranger), role],
      );
      await expectRevert(
        fx.exchange.write.withdrawFees([addr(fx.treasurer), usd("12") + 1n], { account: fx.treasurer.account }),
        "InsufficientFees",
        [usd("12") + 1n, usd("12")],
      );
      await expectRevert(
        fx.exchange.write.withdrawFees([zeroAddress, 1n], { account: fx.treasurer.account }),
        "ZeroAddress",
      );
      const events = await receiptEvents(
        await fx.exchange.write.withdrawFees([addr(fx.treasurer), usd("12")], { account: fx.treasurer.account }),
      );
      expect(eventsNamed(events, "FeesWithdrawn")[0].args).to.deep.equal({ to: addr(fx.treasurer), amount: usd("12") });
      expect(await fx.exchange.read.feesAccrued()).to.equal(0n);
    });
  });
});
