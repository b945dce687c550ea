// Guardian pause (bounded duration, cooldown, stops settle and fast withdrawals only), operator key
// revocation by the guardian, and the bounded exit-parameter setter.
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  BTC,
  type Fx,
  addr,
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
} from "./helpers";

const DAY = 86_400n;

async function batch(fx: Fx) {
  const m = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.1") });
  const t = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.1") });
  return settle(fx, [m, t], [fill(0, 1, size("0.1"), price("60000"))]);
}

describe("Exchange: pause, operator revocation, exit parameters", () => {
  let fx: Fx;
  beforeEach(async () => {
    fx = await loadFixture(deployFixture);
  });

  describe("pause", () => {
    it("stops settle and fast withdrawals for pauseDuration; nothing else; ends by itself", async () => {
      await batch(fx);
      const { events } = await sent(fx, await fx.ext.write.pause({ account: fx.guardian.account }));
      const now = BigInt(await time.latest());
      const until = now + DAY;
      expect(eventsNamed(events as never, "Paused")[0].args).to.deep.equal({
        guardian: addr(fx.guardian),
        pausedUntil: until,
      });
      expect(await fx.ext.read.exitStatus()).to.deep.equal([0n, until, until + 2n * DAY]);
      await expectRevert(batch(fx), "ExchangePaused", [until]);
      await expectRevert(fastWithdraw(fx, fx.carol, 1n), "ExchangePaused", [until]);
      // Not paused: deposits, slow withdrawals, forced requests and their serving, freeze checks.
      await fx.token.write.approve([fx.exchange.address, 1n], { account: fx.carol.account });
      await fx.exchange.write.deposit([1n], { account: fx.carol.account });
      await fx.ext.write.requestWithdrawal([1n], { account: fx.carol.account });
      await fx.ext.write.requestForcedExit([0n], { account: fx.alice.account });
      await fx.ext.write.serveForcedExit([addr(fx.alice), BTC], { account: fx.carol.account });
      await time.increaseTo(until);
      await fx.btcFeed.write.setAnswer([60_000n * 10n ** 8n]);
      await batch(fx);
      await fastWithdraw(fx, fx.carol, 1n);
    });

    it("cannot be chained: the next pause only pauseCooldown after the last one ended", async () => {
      await fx.ext.write.pause({ account: fx.guardian.account });
      const [, until, next] = await fx.ext.read.exitStatus();
      await expectRevert(fx.ext.write.pause({ account: fx.guardian.account }), "PauseCooldown", [next]);
      await time.increaseTo(until + DAY);
      await expectRevert(fx.ext.write.pause({ account: fx.guardian.account }), "PauseCooldown", [next]);
      await time.increaseTo(next);
      await fx.ext.write.pause({ account: fx.guardian.account });
    });

    it("unpause ends it early and starts the cooldown; only while paused", async () => {
      await expectRevert(fx.ext.write.unpause({ account: fx.guardian.account }), "NotPaused");
      await fx.ext.write.pause({ account: fx.guardian.account });
      await time.increase(3600);
      const { events } = await sent(fx, await fx.ext.write.unpause({ account: fx.guardian.account }));
      expect(eventsNamed(events as never, "Unpaused")).to.have.length(1);
      const now = BigInt(await time.latest());
      expect(await fx.ext.read.exitStatus()).to.deep.equal([0n, now, now + 2n * DAY]);
      await batch(fx);
      await expectRevert(fx.ext.write.pause({ account: fx.guardian.account }), "PauseCooldown", [now + 2n * DAY]);
    });
  });

  describe("operator keys", () => {
    it("the guardian revokes an operator key at once; the admin grants the replacement; the guardian cannot", async () => {
      const role = await fx.exchange.read.OPERATOR_ROLE();
      await fx.ext.write.revokeOperator([addr(fx.operator)], { account: fx.guardian.account });
      expect(await fx.exchange.read.hasRole([role, addr(fx.operator)])).to.equal(false);
      await expectRevert(batch(fx), "NotOperatorSigned", [addr(fx.operator)]);
      const adminRole = await fx.exchange.read.DEFAULT_ADMIN_ROLE();
      await expectRevert(
        fx.exchange.write.grantRole([role, addr(fx.keeper)], { account: fx.guardian.account }),
        "AccessControlUnauthorizedAccount",
        [addr(fx.guardian), adminRole],
      );
      await fx.exchange.write.grantRole([role, addr(fx.keeper)], { account: fx.admin.account });
      const m = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.1") });
      const t = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.1") });
      await settle(fx, [m, t], [fill(0, 1, size("0.1"), price("60000"))], { signer: fx.keeper });
    });
  });

  describe("exit parameters", () => {
    it("defaults; the admin sets them within bounds (each bound checked)", async () => {
      const p = await fx.ext.read.exitParams();
      expect(p).to.deep.equal({
        slowWithdrawalDelay: 3600,
        forcedExitGracePeriod: 2 * 86_400,
        exitWindow: 7 * 86_400,
        pauseDuration: 86_400,
        pauseCooldown: 2 * 86_400,
        forcedExitFee: usd("10"),
      });
      const cases: [keyof typeof p, number | bigint, number, number | bigint, number | bigint][] = [
        ["slowWithdrawalDelay", 299, 0, 300, 3 * 86_400],
        ["slowWithdrawalDelay", 3 * 86_400 + 1, 0, 300, 3 * 86_400],
        ["forcedExitGracePeriod", 3599, 1, 3600, 7 * 86_400],
        ["forcedExitGracePeriod", 7 * 86_400 + 1, 1, 3600, 7 * 86_400],
        ["exitWindow", 86_399, 2, 86_400, 30 * 86_400],
        ["exitWindow", 30 * 86_400 + 1, 2, 86_400, 30 * 86_400],
        ["pauseDuration", 3599, 3, 3600, 3 * 86_400],
        ["pauseDuration", 3 * 86_400 + 1, 3, 3600, 3 * 86_400],
        ["pauseCooldown", 86_399, 4, 86_400, 30 * 86_400], // >= pauseDuration (1 day)
        ["pauseCooldown", 30 * 86_400 + 1, 4, 86_400, 30 * 86_400],
        ["forcedExitFee", usd("1") - 1n, 5, usd("1"), usd("1000")],
        ["forcedExitFee", usd("1000") + 1n, 5, usd("1"), usd("1000")],
      ];
      for (const [field, value, index, min, max] of cases) {
        await expectRevert(
          fx.ext.write.setExitParams([{ ...p, [field]: value }], { account: fx.admin.account }),
          "ExitParamOutOfBounds",
          [BigInt(index), BigInt(value), BigInt(min), BigInt(max)],
        );
      }
      const q = { ...p, slowWithdrawalDelay: 600, forcedExitGracePeriod: 3600, forcedExitFee: usd("1") };
      const { events } = await sent(fx, await fx.ext.write.setExitParams([q], { account: fx.admin.account }));
      expect(eventsNamed(events as never, "ExitParamsSet")[0].args).to.deep.equal({ params: q });
      expect(await fx.ext.read.exitParams()).to.deep.equal(q);
      // A pending request keeps the deadline it was filed with.
      await fx.ext.write.requestWithdrawal([1n], { account: fx.carol.account });
      const [, , claimableAt] = await fx.ext.read.withdrawalState([addr(fx.carol)]);
      expect(claimableAt).to.equal(BigInt(await time.latest()) + 600n);
    });
  });
});
