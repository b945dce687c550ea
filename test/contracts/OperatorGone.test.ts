// The headline: the operator disappears. After the last batch, no operator key signs anything again.
// A user with only collateral exits by slow withdrawal; a user with an open position exits through a forced
// request, a freeze and the escape. Both use nothing but a wallet and the contract's ABI (written out below as
// human-readable signatures, as anyone could from the verified source): plain viem calls, none of our sdk,
// keeper or matcher code. Time passing is the only help they get (and the price feeds keep updating, as a
// Chainlink feed does without us).
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { type Address, parseAbi } from "viem";
import { type Fx, addr, deployFixture, eventsNamed, fill, makeOrder, price, settle, size } from "./helpers";

const EXCHANGE_ABI = parseAbi([
  "function accountOf(address) view returns (int256 cash, uint64 minNonce, uint64 openMarkets)",
  "function positionOf(address, uint32) view returns (int256)",
  "function exitParams() view returns ((uint32 slowWithdrawalDelay, uint32 forcedExitGracePeriod, uint32 exitWindow, uint32 pauseDuration, uint32 pauseCooldown, uint64 forcedExitFee))",
  "function exitOf(address) view returns (uint256 freezableAfter, uint8 escape, uint256 claim)",
  "function requestWithdrawal(uint256 amount)",
  "function claimWithdrawal(address to)",
  "function requestForcedExit(uint256 withdrawAmount)",
  "function freeze(address account)",
  "function escapeRegister(address account)",
  "function escapeClaim(address to)",
]);
const ERC20_ABI = parseAbi(["function balanceOf(address) view returns (uint256)"]);

describe("The operator disappears: exits with a wallet and the ABI only", () => {
  let fx: Fx;
  beforeEach(async () => {
    fx = await loadFixture(deployFixture);
    // Last act of the operator: alice buys 2 BTC from bob at 60,000. Then it is gone.
    const m = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("2") });
    const t = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("2") });
    const r = await settle(fx, [m, t], [fill(0, 1, size("2"), price("60000"))]);
    expect(eventsNamed(r.events, "FillSettled")).to.have.length(1);
  });

  /** A wallet's plain viem calls against the Exchange address. */
  function wallet(w: Fx["alice"]) {
    const exchange = fx.deployment.exchange;
    const read = <T>(functionName: string, args: unknown[] = []) =>
      fx.publicClient.readContract({ address: exchange, abi: EXCHANGE_ABI, functionName, args } as never) as Promise<T>;
    const send = async (functionName: string, args: unknown[]) => {
      const hash = await w.writeContract({ address: exchange, abi: EXCHANGE_ABI, functionName, args } as never);
      const receipt = await fx.publicClient.waitForTransactionReceipt({ hash });
      expect(receipt.status, functionName).to.equal("success");
      return receipt;
    };
    const balance = (a: Address) =>
      fx.publicClient.readContract({
        address: fx.deployment.collateral,
        abi: ERC20_ABI,
        functionName: "balanceOf",
        args: [a],
      });
    return { read, send, balance, me: addr(w) };
  }

  it("a collateral-only user exits by slow withdrawal", async () => {
    const carol = wallet(fx.carol);
    const [cash] = await carol.read<[bigint, bigint, bigint]>("accountOf", [carol.me]);
    const params = await carol.read<{ slowWithdrawalDelay: number }>("exitParams");
    const before = await carol.balance(carol.me);
    await carol.send("requestWithdrawal", [cash]);
    await time.increase(params.slowWithdrawalDelay);
    await carol.send("claimWithdrawal", [carol.me]);
    expect(await carol.balance(carol.me)).to.equal(before + cash);
    expect((await carol.read<[bigint]>("accountOf", [carol.me]))[0]).to.equal(0n);
  });

  it("a user with an open position exits through forced request, freeze and escape (two txs, <= 200k gas)", async () => {
    const alice = wallet(fx.alice);
    const params = await alice.read<{ forcedExitGracePeriod: number; exitWindow: number }>("exitParams");
    // BTC rises to 63,000 while the operator is gone.
    await fx.btcFeed.write.setAnswer([63_000n * 10n ** 8n]);
    await alice.send("requestForcedExit", [0n]);
    const [freezableAfter] = await alice.read<[bigint]>("exitOf", [alice.me]);
    await time.increaseTo(freezableAfter + 1n);
    await fx.btcFeed.write.setAnswer([63_000n * 10n ** 8n]); // the feed keeps updating
    await alice.send("freeze", [alice.me]);
    const [cash] = await alice.read<[bigint]>("accountOf", [alice.me]);
    const pos = await alice.read<bigint>("positionOf", [alice.me, 0]);
    const equity = cash + (pos * 63_000_000_000n) / 100_000_000n; // 2 BTC at the final price 63,000

    const register = await alice.send("escapeRegister", [alice.me]);
    expect(await alice.read<[bigint, number, bigint]>("exitOf", [alice.me])).to.deep.equal([freezableAfter, 1, equity]);
    await time.increase(params.exitWindow);
    const before = await alice.balance(alice.me);
    const claim = await alice.send("escapeClaim", [alice.me]);
    expect(await alice.balance(alice.me)).to.equal(before + equity);
    const gas = register.gasUsed + claim.gasUsed;
    console.log(`      escape: register ${register.gasUsed} + claim ${claim.gasUsed} = ${gas} gas`);
    expect(Number(gas)).to.be.at.most(200_000);
  });

  it("both sides of the trade and a bystander all get their equity back after a freeze", async () => {
    const users = [wallet(fx.alice), wallet(fx.bob), wallet(fx.carol)];
    await users[0].send("requestForcedExit", [0n]);
    const params = await users[0].read<{ forcedExitGracePeriod: number; exitWindow: number }>("exitParams");
    await time.increase(params.forcedExitGracePeriod + 1);
    await fx.btcFeed.write.setAnswer([59_000n * 10n ** 8n]);
    await users[2].send("freeze", [users[0].me]); // anyone may freeze
    const expected = [];
    for (const u of users) {
      const [cash] = await u.read<[bigint]>("accountOf", [u.me]);
      const pos = await u.read<bigint>("positionOf", [u.me, 0]);
      const prod = pos * 59_000_000_000n;
      expected.push(cash + (prod >= 0n ? prod / 100_000_000n : -((-prod + 99_999_999n) / 100_000_000n)));
      await u.send("escapeRegister", [u.me]);
    }
    await time.increase(params.exitWindow + 1);
    for (const [i, u] of users.entries()) {
      const before = await u.balance(u.me);
      await u.send("escapeClaim", [u.me]);
      expect(await u.balance(u.me)).to.equal(before + expected[i]);
    }
  });
});
