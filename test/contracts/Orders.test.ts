// Order authorisation (account, agent, ERC-1271), signature hygiene (malleability, domain), cancels and
// nonces.
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { type Hex, concat, pad, toHex, zeroAddress } from "viem";
import {
  DEPOSIT,
  type Fx,
  SkipReason,
  addr,
  cashOf,
  decodeEvents,
  deployFixture,
  eventsNamed,
  expectRevert,
  fill,
  makeOrder,
  positionOf,
  price,
  settle,
  size,
  usd,
  chainNow,
} from "./helpers";
import { hashOrder } from "../../sdk/eip712";

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe("Exchange: orders, signatures and nonces", () => {
  let fx: Fx;
  beforeEach(async () => {
    fx = await loadFixture(deployFixture);
  });

  const bobSells = (amount = "0.5") =>
    makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size(amount) });

  async function expectSkipped(taker: Awaited<ReturnType<typeof makeOrder>>, reason: number) {
    const maker = await bobSells();
    const { events } = await settle(fx, [maker, taker], [fill(0, 1, size("0.5"), price("60000"))]);
    const [sk] = eventsNamed(events, "FillSkipped");
    expect(sk?.args.reason, "skip reason").to.equal(reason);
    expect(sk.args.orderHash).to.equal(taker.hash);
  }

  async function expectFilled(taker: Awaited<ReturnType<typeof makeOrder>>) {
    const maker = await bobSells();
    const { events } = await settle(fx, [maker, taker], [fill(0, 1, size("0.5"), price("60000"))]);
    expect(eventsNamed(events, "FillSkipped")).to.have.length(0);
    expect(eventsNamed(events, "FillSettled")).to.have.length(1);
  }

  describe("signatures", () => {
    it("hashOrder on chain equals the sdk's EIP-712 digest", async () => {
      const o = await bobSells();
      expect(await fx.exchange.read.hashOrder([o.order])).to.equal(o.hash);
      expect(await fx.exchange.read.ORDER_TYPEHASH()).to.equal(
        (await import("viem")).keccak256(toHex((await import("../../sdk/eip712")).ORDER_TYPE_STRING)),
      );
      expect(await fx.exchange.read.BATCH_TYPEHASH()).to.equal(
        (await import("viem")).keccak256(toHex((await import("../../sdk/eip712")).BATCH_TYPE_STRING)),
      );
    });

    it("the domain is built from the live chain id and this contract", async () => {
      const [, name, version, chainId, verifyingContract] = await fx.exchange.read.eip712Domain();
      expect([name, version, chainId, verifyingContract]).to.deep.equal([
        "PerpX Exchange",
        "1",
        31337n,
        fx.exchange.address.toLowerCase() === verifyingContract.toLowerCase() ? verifyingContract : "mismatch",
      ]);
    });

    it("an order signed by someone else is skipped (BadSignature)", async () => {
      const forged = await makeOrder(fx, fx.stranger, {
        isBuy: true,
        price: price("60000"),
        size: size("0.5"),
        account: addr(fx.alice),
      });
      await expectSkipped(forged, SkipReason.BadSignature);
    });

    it("a malleable (high-s) signature is refused", async () => {
      const o = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.5") });
      const r = o.signature.slice(0, 66) as Hex;
      const s = BigInt(`0x${o.signature.slice(66, 130)}`);
      const v = parseInt(o.signature.slice(130, 132), 16);
      const flipped = concat([r, pad(toHex(SECP256K1_N - s), { size: 32 }), toHex(v === 27 ? 28 : 27)]);
      await expectSkipped({ ...o, signature: flipped }, SkipReason.BadSignature);
      // The original low-s signature is fine.
      await expectFilled(o);
    });

    it("a signature of the wrong length or with a bad v is refused", async () => {
      const o = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.5") });
      await expectSkipped({ ...o, signature: o.signature.slice(0, 130) as Hex }, SkipReason.BadSignature);
      await expectSkipped({ ...o, signature: `${o.signature.slice(0, 130)}1f` as Hex }, SkipReason.BadSignature);
    });

    it("a signature for another chain id or another contract is refused", async () => {
      const spec = { isBuy: true, price: price("60000"), size: size("0.5") };
      const otherChain = await makeOrder(fx, fx.alice, spec, { ...fx.domain, chainId: 1 });
      await expectSkipped(otherChain, SkipReason.BadSignature);
      const otherContract = await makeOrder(fx, fx.alice, spec, { ...fx.domain, verifyingContract: fx.token.address });
      await expectSkipped(otherContract, SkipReason.BadSignature);
    });

    it("the zero address as account is refused even with a signature that recovers to nothing", async () => {
      const o = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.5") });
      const zero = { ...o, order: { ...o.order, account: zeroAddress } };
      zero.hash = hashOrder(fx.domain, zero.order);
      await expectSkipped(zero, SkipReason.InvalidAccount);
    });
  });

  describe("agents", () => {
    it("an order signed by a live agent fills; AgentSet is emitted", async () => {
      const expiry = BigInt(await time.latest()) + 1000n;
      const hash = await fx.exchange.write.setAgent([addr(fx.stranger), expiry], { account: fx.alice.account });
      const r = await fx.publicClient.waitForTransactionReceipt({ hash });
      expect(eventsNamed(decodeEvents(fx, r.logs), "AgentSet")[0].args).to.deep.equal({
        account: addr(fx.alice),
        agent: addr(fx.stranger),
        expiry,
      });
      expect(await fx.exchange.read.agentExpiry([addr(fx.alice), addr(fx.stranger)])).to.equal(expiry);
      const o = await makeOrder(fx, fx.stranger, {
        isBuy: true,
        price: price("60000"),
        size: size("0.5"),
        account: addr(fx.alice),
      });
      await expectFilled(o);
      expect(await positionOf(fx, addr(fx.alice))).to.equal(size("0.5"));
    });

    it("an expired agent's order is refused", async () => {
      const expiry = (await chainNow()) + 100n;
      await fx.exchange.write.setAgent([addr(fx.stranger), expiry], { account: fx.alice.account });
      const o = await makeOrder(fx, fx.stranger, {
        isBuy: true,
        price: price("60000"),
        size: size("0.5"),
        account: addr(fx.alice),
        expiry: expiry + 10_000n,
      });
      await time.increaseTo(expiry + 1n);
      await expectSkipped(o, SkipReason.BadSignature);
    });

    it("revoking an agent stops its orders at once, including a partially filled one", async () => {
      await fx.exchange.write.setAgent([addr(fx.stranger), BigInt(await time.latest()) + 10_000n], {
        account: fx.alice.account,
      });
      const o = await makeOrder(fx, fx.stranger, {
        isBuy: true,
        price: price("60000"),
        size: size("1"),
        account: addr(fx.alice),
      });
      await expectFilled(o); // 0.5 of 1 filled
      await fx.exchange.write.setAgent([addr(fx.stranger), 0n], { account: fx.alice.account });
      await expectSkipped(o, SkipReason.BadSignature);
    });

    it("setAgent refuses the zero address and the account itself", async () => {
      await expectRevert(fx.exchange.write.setAgent([zeroAddress, 1n], { account: fx.alice.account }), "ZeroAddress");
      await expectRevert(
        fx.exchange.write.setAgent([addr(fx.alice), 1n], { account: fx.alice.account }),
        "AgentIsAccount",
        [addr(fx.alice)],
      );
    });
  });

  describe("ERC-1271 contract wallets", () => {
    async function wallet() {
      const w = await hre.viem.deployContract("MockERC1271Wallet", [addr(fx.carol)]);
      await fx.token.write.mint([addr(fx.admin), DEPOSIT]);
      await fx.token.write.approve([fx.exchange.address, DEPOSIT]);
      await fx.exchange.write.depositFor([w.address, DEPOSIT]);
      return w;
    }

    it("an order of a contract wallet signed by its owner key fills", async () => {
      const w = await wallet();
      const o = await makeOrder(fx, fx.carol, {
        isBuy: true,
        price: price("60000"),
        size: size("0.5"),
        account: w.address,
      });
      await expectFilled(o);
      expect(await positionOf(fx, w.address)).to.equal(size("0.5"));
    });

    it("a contract wallet that does not approve the signature is refused", async () => {
      const w = await wallet();
      const o = await makeOrder(fx, fx.stranger, {
        isBuy: true,
        price: price("60000"),
        size: size("0.5"),
        account: w.address,
      });
      await expectSkipped(o, SkipReason.BadSignature);
    });

    it("a wallet that burns all its gas is refused without stalling the batch (gas cap)", async () => {
      const w = await wallet();
      await w.write.setGasHog([true]);
      const o = await makeOrder(fx, fx.carol, {
        isBuy: true,
        price: price("60000"),
        size: size("0.5"),
        account: w.address,
      });
      await expectSkipped(o, SkipReason.BadSignature);
    });

    it("a wallet can deposit and withdraw itself", async () => {
      const w = await hre.viem.deployContract("MockERC1271Wallet", [addr(fx.carol)]);
      await fx.token.write.mint([w.address, usd("10")]);
      await w.write.approveAndDeposit([fx.token.address, fx.exchange.address, usd("10")]);
      expect(await cashOf(fx, w.address)).to.equal(usd("10"));
    });
  });

  describe("cancels and nonces", () => {
    it("cancelOrder closes the nonce and emits OrderCancelled; callable by the account or a live agent only", async () => {
      const o = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.5") });
      await expectRevert(
        fx.exchange.write.cancelOrder([o.order], { account: fx.stranger.account }),
        "NotAccountOrAgent",
        [addr(fx.stranger), addr(fx.alice)],
      );
      await fx.exchange.write.setAgent([addr(fx.dave), BigInt(await time.latest()) + 1000n], {
        account: fx.alice.account,
      });
      const hash = await fx.exchange.write.cancelOrder([o.order], { account: fx.dave.account });
      const r = await fx.publicClient.waitForTransactionReceipt({ hash });
      expect(eventsNamed(decodeEvents(fx, r.logs), "OrderCancelled")[0].args).to.deep.equal({
        account: addr(fx.alice),
        orderHash: o.hash,
        nonce: o.order.nonce,
      });
      expect(await fx.exchange.read.orderState([addr(fx.alice), o.order.nonce, o.hash])).to.deep.equal([true, 0n]);
      await expectSkipped(o, SkipReason.OrderClosed);
    });

    it("cancelling a partially filled order stops the rest", async () => {
      const o = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("1") });
      await expectFilled(o);
      expect(await fx.exchange.read.orderState([addr(fx.alice), o.order.nonce, o.hash])).to.deep.equal([
        false,
        size("0.5"),
      ]);
      await fx.exchange.write.cancelOrder([o.order], { account: fx.alice.account });
      expect(await fx.exchange.read.orderState([addr(fx.alice), o.order.nonce, o.hash])).to.deep.equal([true, 0n]);
      await expectSkipped(o, SkipReason.OrderClosed);
    });

    it("raiseMinNonce cancels every lower nonce in O(1); it must increase", async () => {
      const o1 = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.5") });
      const o2 = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.5") });
      const hash = await fx.exchange.write.raiseMinNonce([addr(fx.alice), o2.order.nonce + 1n], {
        account: fx.alice.account,
      });
      const r = await fx.publicClient.waitForTransactionReceipt({ hash });
      expect(eventsNamed(decodeEvents(fx, r.logs), "MinNonceRaised")[0].args).to.deep.equal({
        account: addr(fx.alice),
        minNonce: o2.order.nonce + 1n,
      });
      expect(await fx.exchange.read.orderState([addr(fx.alice), o1.order.nonce, o1.hash])).to.deep.equal([true, 0n]);
      await expectSkipped(o1, SkipReason.Cancelled);
      await expectSkipped(o2, SkipReason.Cancelled);
      await expectRevert(
        fx.exchange.write.raiseMinNonce([addr(fx.alice), o2.order.nonce + 1n], { account: fx.alice.account }),
        "MinNonceNotIncreasing",
        [o2.order.nonce + 1n, o2.order.nonce + 1n],
      );
      // Orders at or above the new minimum still fill.
      const o3 = await makeOrder(fx, fx.alice, {
        isBuy: true,
        price: price("60000"),
        size: size("0.5"),
        nonce: o2.order.nonce + 1n,
      });
      await expectFilled(o3);
    });

    it("raiseMinNonce by a live agent works; by a stranger it is refused", async () => {
      await expectRevert(
        fx.exchange.write.raiseMinNonce([addr(fx.alice), 5n], { account: fx.stranger.account }),
        "NotAccountOrAgent",
        [addr(fx.stranger), addr(fx.alice)],
      );
      await fx.exchange.write.setAgent([addr(fx.stranger), BigInt(await time.latest()) + 1000n], {
        account: fx.alice.account,
      });
      await fx.exchange.write.raiseMinNonce([addr(fx.alice), 5n], { account: fx.stranger.account });
      expect((await fx.exchange.read.accountOf([addr(fx.alice)]))[1]).to.equal(5n);
    });

    it("two orders sharing a nonce: filling one closes the other", async () => {
      const a = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.5"), nonce: 77n });
      const b = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60001"), size: size("0.5"), nonce: 77n });
      await expectFilled(a);
      await expectSkipped(b, SkipReason.OrderClosed);
    });
  });
});
