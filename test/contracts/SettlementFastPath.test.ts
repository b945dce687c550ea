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
} from "./helpers";

const P = price("60000");

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
});
