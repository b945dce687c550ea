// The assembly fast paths of settlement (Settlement._checkOrderFast, _commitPositions) agree with the exact
// Solidity paths at the boundaries: every order check is taken once by the first order of a market (slow
// path: the market is loaded there) and once by a later order (fast path). Orders.test.ts covers the
// signature refusals (high-s, length, v, foreign signer, agents, ERC-1271) with the taker on the fast path.
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { zeroAddress } from "viem";
import { hashOrder } from "../../sdk/eip712";
import {
  SkipReason,
  addr,
  deployFixture,
  eventsNamed,
  fill,
  makeOrder,
  positionOf,
  price,
  settle,
  size,
  chainNow,
  expectRevert,
  usd,
} from "./helpers";

const P = price("60000");
const bob = (fx: Awaited<ReturnType<typeof deployFixture>>) => addr(fx.bob);

describe("Settlement fast paths: boundaries", () => {
  it("an agent whose expiry is this very second still signs, on the slow and on the fast path", async () => {
    const fx = await loadFixture(deployFixture);
    const t = (await chainNow()) + 100n;
    for (const [w, agent] of [
      [fx.alice, fx.stranger],
      [fx.bob, fx.keeper],
    ] as const) {
      await fx.exchange.write.setAgent([addr(agent), t], { account: w.account });
    }
    // bob's (agent-signed) order first: slow path; alice's (agent-signed) second: fast path
    const maker = await makeOrder(fx, fx.keeper, { isBuy: false, price: P, size: size("0.5"), account: addr(fx.bob) });
    const taker = await makeOrder(fx, fx.stranger, {
      isBuy: true,
      price: P,
      size: size("0.5"),
      account: addr(fx.alice),
    });
    await time.setNextBlockTimestamp(t);
    const { events } = await settle(fx, [maker, taker], [fill(0, 1, size("0.5"), P)], { deadline: t + 60n });
    expect(eventsNamed(events, "FillSkipped")).to.have.length(0);
    expect(await positionOf(fx, addr(fx.alice))).to.equal(size("0.5"));
    // one second later the agents are expired: alice's agent order, second in the batch (fast path), is refused
    const m2 = await makeOrder(fx, fx.bob, { isBuy: false, price: P, size: size("0.5") });
    const t2 = await makeOrder(fx, fx.stranger, { isBuy: true, price: P, size: size("0.5"), account: addr(fx.alice) });
    const r = await settle(fx, [m2, t2], [fill(0, 1, size("0.5"), P)]);
    const [sk] = eventsNamed(r.events, "FillSkipped");
    expect([sk.args.reason, sk.args.orderHash]).to.deep.equal([SkipReason.BadSignature, t2.hash]);
  });

  it("an order expiring this very second fills; a later order of the batch is checked the same way", async () => {
    const fx = await loadFixture(deployFixture);
    const t = (await chainNow()) + 100n;
    const maker = await makeOrder(fx, fx.bob, { isBuy: false, price: P, size: size("0.5"), expiry: t });
    const taker = await makeOrder(fx, fx.alice, { isBuy: true, price: P, size: size("0.5"), expiry: t });
    const late = await makeOrder(fx, fx.carol, { isBuy: true, price: P, size: size("0.5"), expiry: t - 1n });
    await time.setNextBlockTimestamp(t);
    const { events } = await settle(
      fx,
      [maker, taker, late],
      [fill(0, 1, size("0.5"), P), fill(0, 2, size("0.5"), P)],
      {
        deadline: t + 60n,
      },
    );
    expect(eventsNamed(events, "FillSettled")).to.have.length(1);
    const [sk] = eventsNamed(events, "FillSkipped");
    expect([sk.args.reason, sk.args.orderHash]).to.deep.equal([SkipReason.Expired, late.hash]);
  });

  it("a duplicate, a size off the lot or below the minimum, and the zero account on the fast path", async () => {
    const fx = await loadFixture(deployFixture);
    const maker = await makeOrder(fx, fx.bob, { isBuy: false, price: P, size: size("2") });
    const taker = await makeOrder(fx, fx.alice, { isBuy: true, price: P, size: size("0.5") });
    const offLot = await makeOrder(fx, fx.carol, { isBuy: true, price: P, size: size("0.00015") });
    const tiny = await makeOrder(fx, fx.dave, { isBuy: true, price: P, size: 0n });
    const z = await makeOrder(fx, fx.dave, { isBuy: true, price: P, size: size("0.5") });
    const zero = { ...z, order: { ...z.order, account: zeroAddress } };
    zero.hash = hashOrder(fx.domain, zero.order);
    const { events } = await settle(
      fx,
      [maker, taker, taker, offLot, tiny, zero],
      [
        fill(0, 1, size("0.5"), P),
        fill(0, 2, size("0.5"), P),
        fill(0, 3, size("0.0001"), P),
        fill(0, 4, size("0.0001"), P),
        fill(0, 5, size("0.5"), P),
      ],
    );
    expect(eventsNamed(events, "FillSettled")).to.have.length(1);
    expect(eventsNamed(events, "FillSkipped").map((e) => [e.args.reason, e.args.orderHash])).to.deep.equal([
      [SkipReason.DuplicateOrder, taker.hash],
      [SkipReason.InvalidOrderSize, offLot.hash],
      [SkipReason.InvalidOrderSize, tiny.hash],
      [SkipReason.InvalidAccount, zero.hash],
    ]);
  });

  it("order commit: an order that needs the full path stops the fast loop; later orders go on in batch order", async () => {
    const fx = await loadFixture(deployFixture);
    const alice = addr(fx.alice);
    const [, n] = await fx.exchange.read.accountOf([alice]); // the chain's minimum nonce
    // alice's orders listed as nonce n+1, then n, both fully filled: n+1 (not at the minimum yet) closes in the
    // bitmap, then n advances the minimum to n+1; processed out of order the minimum would reach n+2.
    const later = await makeOrder(fx, fx.alice, { isBuy: true, price: P, size: size("0.1"), nonce: n + 1n });
    const first = await makeOrder(fx, fx.alice, { isBuy: true, price: P, size: size("0.1"), nonce: n });
    const maker = await makeOrder(fx, fx.bob, { isBuy: false, price: P, size: size("0.2") });
    await settle(fx, [maker, later, first], [fill(0, 1, size("0.1"), P), fill(0, 2, size("0.1"), P)]);
    const [, minNonce] = await fx.exchange.read.accountOf([alice]);
    expect(minNonce).to.equal(n + 1n);
    expect((await fx.exchange.read.orderState([alice, n + 1n, later.hash]))[0]).to.equal(true);
    expect((await fx.exchange.read.orderState([bob(fx), maker.order.nonce, maker.hash]))[0]).to.equal(true);
  });

  it("account commit: equity exactly at the initial requirement passes; one unit below reverts, naming the account", async () => {
    // ETH at 3,125 (maker rate 0): 320 ETH is a notional of exactly 1,000,000, so the initial requirement (10%)
    // is exactly the 100,000 deposit of each side when no fee is charged.
    for (const takerFee of [0n, 1n]) {
      const fx = await loadFixture(deployFixture);
      await fx.ethFeed.write.setAnswer([price("3125") * 100n]);
      const PX = price("3125");
      const m = await makeOrder(fx, fx.bob, { market: 1, isBuy: false, price: PX, size: size("320") });
      const t = await makeOrder(fx, fx.alice, { market: 1, isBuy: true, price: PX, size: size("320") });
      const f = { maker: 0, taker: 1, size: size("320"), price: PX, makerFee: 0n, takerFee };
      if (takerFee === 0n) {
        await settle(fx, [m, t], [f]);
        expect(await positionOf(fx, addr(fx.alice), 1)).to.equal(size("320"));
        expect(await positionOf(fx, addr(fx.bob), 1)).to.equal(-size("320"));
      } else {
        // bob (first account, exactly at the requirement) passes the fast check; alice (one unit short, her
        // risk grew) fails on the full path
        await expectRevert(settle(fx, [m, t], [f]), "AccountMarginCheckFailed", [
          addr(fx.alice),
          usd("100000") - 1n,
          usd("100000"),
          usd("100000"),
          usd("100000") - 1n - usd("50000"),
        ]);
      }
    }
  });

  it("account commit: an account on the full path (below initial margin, reducing) before and after fast ones", async () => {
    const fx = await loadFixture(deployFixture);
    // dave goes long 16 BTC at 60,000 (initial requirement 96,000 of 100,000), then the mark falls to 59,000:
    // below initial margin, above maintenance
    const d0 = await makeOrder(fx, fx.dave, { isBuy: true, price: P, size: size("16") });
    const c0 = await makeOrder(fx, fx.carol, { isBuy: false, price: P, size: size("16") });
    await settle(fx, [c0, d0], [fill(0, 1, size("16"), P)]);
    await fx.btcFeed.write.setAnswer([price("59000") * 100n]);
    const P2 = price("59000");
    // alice sells to bob (fast), dave reduces by selling to carol (full path: below initial margin), then
    // alice sells more to bob (fast again, accounts already loaded)
    const a = await makeOrder(fx, fx.alice, { isBuy: false, price: P2, size: size("0.2") });
    const b = await makeOrder(fx, fx.bob, { isBuy: true, price: P2, size: size("0.2") });
    const d = await makeOrder(fx, fx.dave, { isBuy: false, price: P2, size: size("1") });
    const c = await makeOrder(fx, fx.carol, { isBuy: true, price: P2, size: size("1") });
    const { events } = await settle(
      fx,
      [a, b, d, c],
      [fill(0, 1, size("0.1"), P2), fill(2, 3, size("1"), P2), fill(0, 1, size("0.1"), P2)],
    );
    expect(eventsNamed(events, "FillSettled")).to.have.length(3);
    expect(await positionOf(fx, addr(fx.dave))).to.equal(size("15"));
    expect(await positionOf(fx, addr(fx.carol))).to.equal(-size("15"));
    expect(await positionOf(fx, addr(fx.alice))).to.equal(-size("0.2"));
    expect(await positionOf(fx, addr(fx.bob))).to.equal(size("0.2"));
    const cash = await Promise.all(
      [fx.alice, fx.bob, fx.carol, fx.dave].map((w) => fx.exchange.read.accountOf([addr(w)])),
    );
    for (const [i, e] of eventsNamed(events, "PositionChanged").entries()) {
      const w = [fx.alice, fx.bob, fx.dave, fx.carol].findIndex((x) => addr(x) === e.args.account);
      expect(e.args.cash, `PositionChanged ${i}`).to.equal(cash[[0, 1, 3, 2][w]][0]);
    }
  });
});
