// The listener on issue 3's events (real Postgres and PGlite, a private Exchange on the Hardhat node, since
// this suite freezes it and moves time by days):
//   - slow withdrawals: a request reserves its amount in the matcher, a replacing request releases the old
//     one, a cancel releases it, a claim changes nothing (already reserved), a fast withdrawal debits; the
//     matcher's balance moves add up to the chain's cash, also through a reorg that replaces the claim;
//   - liquidation into bad debt: the insurance fund and the socialised loss; every short of the market is
//     charged what the contract's funding index charges it (pendingFunding);
//   - forced exit: the fee, the takeover at the mark moving both positions in the matcher;
//   - freeze: every market halts in the matcher; the escape is recorded;
//   - every event of the ABI is stored (ev_other holds the rest), nothing published twice.
import { expect } from "chai";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { exchangeAbi, mockAggregatorAbi } from "../../sdk/abi";
import { exchangeDomain, signWithdrawal } from "../../sdk/eip712";
import { MemoryBus } from "../../keeper/bus";
import type { Db } from "../../keeper/db";
import { Listener } from "../../keeper/listener";
import { CHAIN_EVENTS, MATCHER_COMMANDS } from "../../keeper/topics";
import { deployExchange, type ExchangeDeployment } from "../../scripts/lib/deployExchange";
import { DEV_KEYS, testChain, testExchange, type TestChain } from "./chain";
import { TradeMaker, type Trader } from "./fills";
import { DB_TARGETS } from "./helpers";

const USD = 1_000_000n;
const FEED_ONE = 100_000_000n;

describe("keeper/listener on funding, liquidation and exit events", function () {
  this.timeout(240_000);
  let chain: TestChain;

  before(async () => {
    chain = await testChain();
  });
  after(async () => {
    // this suite moves chain time by days: re-stamp the shared deployment's feeds for the suites after it
    const shared = await testExchange();
    for (const m of shared.markets) {
      const [, answer] = (await chain.client.readContract({
        address: m.oracle,
        abi: mockAggregatorAbi,
        functionName: "latestRoundData",
      })) as [bigint, bigint, bigint, bigint, bigint];
      const h = await chain.deployer.writeContract({
        address: m.oracle,
        abi: mockAggregatorAbi,
        functionName: "setAnswer",
        args: [answer],
      });
      await chain.client.waitForTransactionReceipt({ hash: h });
    }
  });

  for (const target of DB_TARGETS) {
    it(`on ${target.name}: withdrawals, bad debt, forced exit, freeze and escape reach Postgres and the matcher exactly`, async () => {
      const { db, cleanup } = await target.open();
      const bus = new MemoryBus();
      try {
        await scenario(db, bus);
      } finally {
        await bus.close();
        await cleanup();
      }
    });
  }

  async function scenario(db: Db, bus: MemoryBus): Promise<void> {
    const x: ExchangeDeployment = await deployExchange({
      publicClient: chain.client,
      walletClient: chain.deployer,
      fund: [],
      timelock: false,
    });
    const ex = x.exchange;
    const tm = new TradeMaker(chain, ex, x.collateral);
    await tm.init();
    const l = new Listener({
      db,
      bus,
      client: chain.client,
      exchange: ex,
      fromBlock: BigInt(x.deploymentBlock),
      reorgWindow: 0,
    });
    const read = <T>(fn: string, args: unknown[] = []) =>
      chain.client.readContract({
        address: ex,
        abi: exchangeAbi,
        functionName: fn as never,
        args: args as never,
      }) as Promise<T>;
    const send = async (key: Hex, fn: string, args: unknown[]) => {
      await chain.rpc("hardhat_setBalance", [privateKeyToAccount(key).address, "0x56BC75E2D63100000"]);
      const h = await chain.deployer.writeContract({
        account: privateKeyToAccount(key),
        address: ex,
        abi: exchangeAbi,
        functionName: fn as never,
        args: args as never,
      });
      const r = await chain.client.waitForTransactionReceipt({ hash: h });
      expect(r.status, fn).to.equal("success");
    };
    const cash = async (a: Address) => (await read<[bigint, bigint, bigint]>("accountOf", [a]))[0];
    const setPrice = async (market: number, p: bigint) => {
      const h = await chain.deployer.writeContract({
        address: x.markets[market].oracle,
        abi: mockAggregatorAbi,
        functionName: "setAnswer",
        args: [(p * FEED_ONE) / USD],
      });
      await chain.client.waitForTransactionReceipt({ hash: h });
    };
    const restamp = async () => {
      await setPrice(0, 60_000n * USD);
      await setPrice(1, 3_000n * USD);
    };
    const forward = async (sec: number) => {
      await chain.rpc("evm_increaseTime", [sec]);
      await chain.mine();
      await restamp();
    };
    /** Net balance + liquidation cash the matcher was told for `a` (reorg undos included). */
    const matcherCash = async (a: Address) => {
      let sum = 0n;
      for (const e of await bus.read<Record<string, unknown>>(MATCHER_COMMANDS, "0", { count: 100_000 })) {
        const c = e.data;
        if (c.account !== a.toLowerCase()) continue;
        if (c.type === "balance") sum += BigInt(String(c.delta));
        if (c.type === "liquidation") sum += BigInt(String(c.cashDelta));
      }
      return sum;
    };
    const matcherPos = async (a: Address, market: number) => {
      let sum = 0n;
      for (const e of await bus.read<Record<string, unknown>>(MATCHER_COMMANDS, "0", { count: 100_000 }))
        if (e.data.type === "liquidation" && e.data.account === a.toLowerCase() && e.data.market === market)
          sum += BigInt(String(e.data.sizeDelta));
      return sum;
    };
    const fast = async (t: Trader, amount: bigint) => {
      const [nonce] = await read<[bigint, bigint, bigint]>("withdrawalState", [t.address]);
      const deadline = (await chain.client.getBlock()).timestamp + 600n;
      const sig = await signWithdrawal(privateKeyToAccount(DEV_KEYS[0]), exchangeDomain(31337, ex), {
        account: t.address,
        amount,
        to: t.address,
        nonce,
        deadline,
      });
      await send(t.key, "withdraw", [amount, t.address, deadline, sig]);
    };

    // ---- slow and fast withdrawals, then a reorg that replaces the claim
    const u = await tm.trader(10_000n * USD);
    await send(u.key, "requestWithdrawal", [1_000n * USD]);
    await send(u.key, "requestWithdrawal", [1_500n * USD]); // replaces the first
    await send(u.key, "cancelWithdrawal", []);
    await send(u.key, "requestWithdrawal", [700n * USD]);
    await l.catchUp();
    // reserved in the matcher: 700 of the 10,000 (the chain's cash is still 10,000)
    expect(await matcherCash(u.address)).to.equal(9_300n * USD);
    const snap = await chain.rpc<Hex>("evm_snapshot");
    const delay = (await read<{ slowWithdrawalDelay: number }>("exitParams")).slowWithdrawalDelay;
    await forward(Number(delay) + 1);
    await send(u.key, "claimWithdrawal", [u.address]);
    await fast(u, 300n * USD);
    await l.catchUp();
    expect(await cash(u.address)).to.equal(9_000n * USD);
    expect(await matcherCash(u.address)).to.equal(9_000n * USD);
    const kinds = await db.query<{ kind: string }>("SELECT kind FROM ev_withdrawals ORDER BY block_number, log_index");
    expect(kinds.rows.map((r) => r.kind)).to.deep.equal(["claim", "fast"]);
    // reorg: the claim and the fast withdrawal never happened; instead a cancel and another fast withdrawal
    await chain.rpc("evm_revert", [snap]);
    await chain.mine();
    await send(u.key, "cancelWithdrawal", []);
    await fast(u, 200n * USD);
    await chain.mine();
    await chain.mine();
    const r1 = await l.step();
    expect(r1.reorg, "reorg detected").to.not.equal(undefined);
    await l.catchUp();
    expect(await cash(u.address)).to.equal(9_800n * USD);
    expect(await matcherCash(u.address)).to.equal(9_800n * USD);
    await restamp();

    // ---- liquidation into bad debt: insurance first, the rest socialised on the shorts
    const shortA = await tm.trader(200_000n * USD);
    const shortB = await tm.trader(200_000n * USD);
    const victim = await tm.trader(7_000n * USD);
    const liquidator = await tm.trader(200_000n * USD);
    // victim long 1 BTC at 60,000 against two shorts
    await tm.settle([
      await tm.trade(shortA, victim, { makerIsBuy: false, size: 60_000_000n }),
      await tm.trade(shortB, victim, { makerIsBuy: false, size: 40_000_000n }),
    ]);
    await setPrice(0, 50_000n * USD); // equity about -3,030: bankrupt
    await send(liquidator.key, "liquidate", [victim.address, 0, 100_000_000n]);
    await l.catchUp();
    const bad = await db.query<{ amount: string; covered: string; socialised: string }>("SELECT * FROM ev_bad_debts");
    expect(bad.rowCount).to.equal(1);
    expect(BigInt(bad.rows[0].socialised) > 0n).to.equal(true);
    const soc = await db.query<{ charge_longs: boolean; charges: [string, string][] }>(
      "SELECT * FROM ev_loss_socialized",
    );
    expect(soc.rowCount).to.equal(1);
    expect(soc.rows[0].charge_longs).to.equal(false); // the victim was long: the shorts profited
    const charges = new Map(soc.rows[0].charges.map(([a, v]) => [a, BigInt(v)]));
    for (const s of [shortA, shortB]) {
      // the matcher charges what the contract's index charges
      expect(charges.get(s.address.toLowerCase()), "charge").to.equal(
        await read<bigint>("pendingFunding", [s.address, 0]),
      );
    }
    // the victim's cash and position in the matcher follow the chain (liquidation moves + bad-debt cover)
    expect(await matcherPos(victim.address, 0)).to.equal(-100_000_000n);
    expect(await matcherPos(liquidator.address, 0)).to.equal(100_000_000n);
    await restamp();

    // ---- forced exit served by a taker at the mark
    const v = await tm.trader(20_000n * USD);
    const w = await tm.trader(200_000n * USD);
    const taker = await tm.trader(200_000n * USD);
    await tm.settle([await tm.trade(w, v, { makerIsBuy: false, size: 10_000_000n })]); // v long 0.1
    const vBefore = await cash(v.address);
    await send(v.key, "requestForcedExit", [0n]);
    const fee = vBefore - (await cash(v.address));
    expect(fee > 0n).to.equal(true);
    const tBefore = await cash(taker.address);
    await send(taker.key, "serveForcedExit", [v.address, 0]);
    await l.catchUp();
    const vDelta = (await cash(v.address)) - vBefore;
    const tDelta = (await cash(taker.address)) - tBefore;
    const cmds = (await bus.read<Record<string, unknown>>(MATCHER_COMMANDS, "0", { count: 100_000 })).map(
      (e) => e.data,
    );
    const feeCmd = cmds.find(
      (c) => c.type === "balance" && c.account === v.address.toLowerCase() && Number(c.delta) < 0,
    );
    expect(BigInt(String(feeCmd!.delta))).to.equal(-fee);
    const moves = cmds.filter(
      (c) =>
        c.type === "liquidation" &&
        (c.account === v.address.toLowerCase() || c.account === taker.address.toLowerCase()),
    );
    expect(moves.map((c) => [c.account, c.sizeDelta])).to.deep.equal([
      [v.address.toLowerCase(), -10_000_000],
      [taker.address.toLowerCase(), 10_000_000],
    ]);
    // cash moved exactly as the chain moved it (the fee aside)
    expect(BigInt(String(moves[0].cashDelta))).to.equal(vDelta + fee);
    expect(BigInt(String(moves[1].cashDelta))).to.equal(tDelta);

    // ---- an unserved forced exit, the freeze, the escape
    const y = await tm.trader(20_000n * USD);
    await tm.settle([await tm.trade(w, y, { makerIsBuy: false, size: 10_000_000n })]);
    await send(y.key, "requestForcedExit", [0n]);
    const grace = (await read<{ forcedExitGracePeriod: number }>("exitParams")).forcedExitGracePeriod;
    await forward(Number(grace) + 1);
    await send(w.key, "freeze", [y.address]);
    await send(y.key, "escapeRegister", [y.address]);
    const window = (await read<{ exitWindow: number }>("exitParams")).exitWindow;
    await forward(Number(window) + 1);
    await send(y.key, "escapeClaim", [y.address]);
    await l.catchUp();
    const halts = cmds.length;
    const after = (await bus.read<Record<string, unknown>>(MATCHER_COMMANDS, "0", { count: 100_000 })).map(
      (e) => e.data,
    );
    expect(
      after
        .slice(halts)
        .filter((c) => c.type === "setStatus")
        .map((c) => [c.market, c.status]),
    ).to.deep.equal([
      [0, "HALT"],
      [1, "HALT"],
    ]);
    expect((await db.query("SELECT 1 FROM ev_freezes")).rowCount).to.equal(1);
    const esc = await db.query<{ kind: string }>("SELECT kind FROM ev_escapes ORDER BY block_number, log_index");
    expect(esc.rows.map((r) => r.kind)).to.deep.equal(["register", "claim"]);

    // ---- every event of the chain stored once, published once
    const logs = await chain.client.getLogs({ address: ex, fromBlock: BigInt(x.deploymentBlock), toBlock: "latest" });
    const tables = await db.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM ev_deposits) + (SELECT count(*) FROM ev_withdrawals) + (SELECT count(*) FROM ev_fills)
        + (SELECT count(*) FROM ev_fill_skips) + (SELECT count(*) FROM ev_positions) + (SELECT count(*) FROM ev_cancels)
        + (SELECT count(*) FROM ev_min_nonces) + (SELECT count(*) FROM ev_agents) + (SELECT count(*) FROM ev_batches)
        + (SELECT count(*) FROM ev_fees_withdrawn) + (SELECT count(*) FROM ev_markets)
        + (SELECT count(*) FROM ev_withdrawal_requests) + (SELECT count(*) FROM ev_withdrawal_cancels)
        + (SELECT count(*) FROM ev_liquidations) + (SELECT count(*) FROM ev_bad_debts) + (SELECT count(*) FROM ev_loss_socialized)
        + (SELECT count(*) FROM ev_funding) + (SELECT count(*) FROM ev_forced_exits) + (SELECT count(*) FROM ev_forced_exit_takeovers)
        + (SELECT count(*) FROM ev_freezes) + (SELECT count(*) FROM ev_escapes) + (SELECT count(*) FROM ev_other) AS n`,
    );
    expect(Number(tables.rows[0].n)).to.equal(logs.length);
    const other = await db.query<{ name: string }>("SELECT DISTINCT name FROM ev_other ORDER BY name");
    expect(other.rows.map((r) => r.name)).to.include.members(["FinalPriceSet", "ForcedExitServed", "RoleGranted"]);
    const evs = (
      await bus.read<{ type: string; blockHash?: string; logIndex?: number }>(CHAIN_EVENTS, "0", { count: 100_000 })
    )
      .map((e) => e.data)
      .filter((e) => e.type === "event");
    const ids = evs.map((e) => `${e.blockHash}:${e.logIndex}`);
    expect(new Set(ids).size).to.equal(ids.length);
  }
});
