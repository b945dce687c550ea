// The forced-exit server bot against a Hardhat node, with the listener on real Postgres and a matching
// engine fed the listener's matcher commands through the bridge's toCommand:
//   - a user with a position files a forced exit: the engine cancels its orders and rejects opening orders
//     (reduce-only still accepted); the bot waits (capped at half the grace period), then serves it with
//     serveForcedExit, once (a second round and a restarted bot send nothing more); after the grace period
//     freeze(account) reverts; ForcedExitServed releases the account in the engine;
//   - a bot without the margin to take the position over raises an alert with the reason and the time left,
//     retries every round, and serves once its account has collateral;
//   - an account closed by the operator's batches meanwhile is cleared (clearForcedExit).
import { expect } from "chai";
import { BaseError, ContractFunctionRevertedError, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { exchangeAbi, mockAggregatorAbi } from "../../sdk/abi";
import { MemoryBus } from "../../keeper/bus";
import { ForcedExitBot, type ForcedExitFailure } from "../../keeper/bots";
import type { Db } from "../../keeper/db";
import { loadConfig } from "../../keeper/config";
import { Listener } from "../../keeper/listener";
import { rowCommands } from "../../keeper/listener/events";
import { MATCHER_COMMANDS } from "../../keeper/topics";
import { TxManager } from "../../keeper/tx";
import { toCommand } from "../../matcher/bridge/bridge";
import { Engine } from "../../matcher/engine/engine";
import type { PlaceCmd } from "../../matcher/engine/types";
import { marketsFromDeployment } from "../../matcher/markets";
import type { ExchangeDeployment } from "../../scripts/lib/deployExchange";
import { testExchange, type TestChain } from "./chain";
import { TradeMaker, type Trader } from "./fills";
import { DB_TARGETS, until } from "./helpers";

const USD = 1_000_000n;
const FEED_ONE = 100_000_000n;

describe("keeper forced-exit bot (Hardhat, Postgres, engine)", function () {
  this.timeout(180_000);
  let chain: TestChain;
  let d: ExchangeDeployment & { chain: TestChain };
  let exchange: Address;
  let tm: TradeMaker;
  let db: Db;
  let cleanup: () => Promise<void>;
  let bus: MemoryBus;
  let listener: Listener;
  let engine: Engine;
  let busRead = "0";
  const managers: TxManager[] = [];

  const read = <T>(functionName: string, args: unknown[] = []) =>
    chain.client.readContract({
      address: exchange,
      abi: exchangeAbi,
      functionName: functionName as never,
      args: args as never,
    }) as Promise<T>;

  async function send(key: Hex, fn: string, args: unknown[]): Promise<void> {
    const account = privateKeyToAccount(key);
    await chain.rpc("hardhat_setBalance", [account.address, "0x56BC75E2D63100000"]);
    const h = await chain.deployer.writeContract({
      account,
      address: exchange,
      abi: exchangeAbi,
      functionName: fn as never,
      args: args as never,
    });
    const r = await chain.client.waitForTransactionReceipt({ hash: h });
    expect(r.status, fn).to.equal("success");
  }

  async function setPrice(market: number, price: bigint): Promise<void> {
    const h = await chain.deployer.writeContract({
      address: d.markets[market].oracle,
      abi: mockAggregatorAbi,
      functionName: "setAnswer",
      args: [(price * FEED_ONE) / USD],
    });
    await chain.client.waitForTransactionReceipt({ hash: h });
  }
  const restamp = async () => {
    await setPrice(0, 60_000n * USD);
    await setPrice(1, 3_000n * USD);
  };
  const forward = async (sec: number) => {
    await chain.rpc("evm_increaseTime", [sec]);
    await chain.mine();
    await restamp();
  };

  async function txManager(key: Hex): Promise<TxManager> {
    const t = new TxManager({
      db,
      client: chain.client,
      account: privateKeyToAccount(key),
      chainId: 31337,
      pollMs: 50,
    });
    await t.init();
    managers.push(t);
    return t;
  }

  /** A fresh key with `usd` deposited on the Exchange. */
  async function botKey(usd: bigint): Promise<Hex> {
    const key = await chain.fundedKey();
    if (usd > 0n) {
      const h = await chain.deployer.writeContract({
        address: exchange,
        abi: exchangeAbi,
        functionName: "depositFor",
        args: [privateKeyToAccount(key).address, usd],
      });
      await chain.client.waitForTransactionReceipt({ hash: h });
    }
    return key;
  }

  /** The listener's new matcher commands into the engine (as the bridge does); returns them. */
  async function pump(): Promise<Record<string, unknown>[]> {
    await listener.catchUp();
    const es = await bus.read<Record<string, unknown>>(MATCHER_COMMANDS, busRead, { count: 10_000 });
    const out: Record<string, unknown>[] = [];
    for (const e of es) {
      busRead = e.id;
      out.push(e.data);
      const c = toCommand(e.data, engine.now + 1);
      if (typeof c === "string") throw new Error(c);
      expect(engine.process(c).ok, JSON.stringify(e.data)).to.equal(true);
      engine.events = [];
    }
    return out;
  }

  const place = (account: Address, side: "BUY" | "SELL", price: bigint, qty: bigint, reduceOnly = false) => {
    const ack = engine.process({
      type: "place",
      ts: engine.now + 1,
      account: account.toLowerCase(),
      market: 0,
      side,
      orderType: "LIMIT",
      price: Number(price),
      qty: Number(qty),
      reduceOnly,
    } as PlaceCmd);
    engine.events = [];
    return ack;
  };

  /** Rounds (with the manager's receipts) until `pred`. */
  async function roundsUntil(bot: ForcedExitBot, tx: TxManager, pred: () => Promise<boolean>): Promise<void> {
    await until(async () => {
      await tx.tick();
      await bot.round();
      return pred();
    }, 30_000);
  }

  async function freezeReverts(account: Address): Promise<string> {
    try {
      await chain.client.simulateContract({
        account: chain.deployer.account,
        address: exchange,
        abi: exchangeAbi,
        functionName: "freeze",
        args: [account],
      });
    } catch (err) {
      const r = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : null;
      return r instanceof ContractFunctionRevertedError ? (r.data?.errorName ?? r.shortMessage) : String(err);
    }
    throw new Error("freeze did not revert");
  }

  before(async () => {
    d = await testExchange();
    chain = d.chain;
    exchange = d.exchange;
    tm = new TradeMaker(chain, exchange, d.collateral);
    await tm.init();
    await restamp();
  });
  beforeEach(async () => {
    ({ db, cleanup } = await DB_TARGETS[0].open());
    bus = new MemoryBus();
    busRead = "0";
    listener = new Listener({
      db,
      bus,
      client: chain.client,
      exchange,
      fromBlock: BigInt(d.deploymentBlock),
      reorgWindow: 0,
      maxRange: 5000,
    });
    engine = new Engine({ markets: marketsFromDeployment(d as never) });
    engine.process({ type: "mark", ts: 1, market: 0, price: Number(60_000n * USD) });
    engine.process({ type: "mark", ts: 1, market: 1, price: Number(3_000n * USD) });
    engine.events = [];
  });
  afterEach(async () => {
    for (const t of managers.splice(0)) await t.stop();
    await restamp();
    await bus.close();
    await cleanup();
  });

  /** `v` long 0.1 BTC against `w`. */
  async function longPosition(usd = 20_000n * USD): Promise<{ v: Trader; w: Trader }> {
    const w = await tm.trader(500_000n * USD);
    const v = await tm.trader(usd);
    await tm.settle([await tm.trade(w, v, { makerIsBuy: false, size: 10_000_000n })]);
    return { v, w };
  }

  it("serves a forced exit before the deadline, once; freeze reverts after the grace period; the engine holds the account reduce-only until served", async () => {
    const { v } = await longPosition();
    const va = v.address.toLowerCase();
    await pump();
    // the engine: the same trade (the engine knows the position), then the account rests an order
    const w0 = (await db.query<{ maker: string }>("SELECT maker FROM ev_fills WHERE taker = $1", [va])).rows[0].maker;
    expect(place(w0 as Address, "SELL", 60_000n * USD, 10_000_000n).reason).to.equal("OK");
    expect(place(v.address, "BUY", 60_000n * USD, 10_000_000n).reason).to.equal("OK");
    expect(engine.accountView(va)!.positions.get(0)).to.equal(10_000_000);
    expect(place(v.address, "BUY", 59_000n * USD, 1_000_000n).reason).to.equal("OK");
    expect(engine.openOrders(va).length).to.equal(1);

    await send(v.key, "requestForcedExit", [0n]);
    const [freezableAfter] = await read<[bigint, number, bigint]>("exitOf", [v.address]);
    expect(freezableAfter > 0n).to.equal(true);
    const cmds = await pump();
    expect(cmds.filter((c) => c.type === "restrict").map((c) => [c.account, c.reduceOnly])).to.deep.equal([[va, true]]);
    // orders cancelled; opening orders rejected; reduce-only accepted
    expect(engine.openOrders(va)).to.deep.equal([]);
    expect(place(v.address, "BUY", 59_000n * USD, 1_000_000n).reason).to.equal("REDUCE_ONLY_REJECTED");
    expect(place(v.address, "SELL", 61_000n * USD, 1_000_000n).reason).to.equal("REDUCE_ONLY_REJECTED");
    expect(place(v.address, "SELL", 61_000n * USD, 1_000_000n, true).ok).to.equal(true);

    // the bot waits (asked for 10 days: capped at half the grace period)
    const grace = BigInt((await read<{ forcedExitGracePeriod: number }>("exitParams")).forcedExitGracePeriod);
    const key = await botKey(200_000n * USD);
    const bot = privateKeyToAccount(key).address;
    const tx = await txManager(key);
    const served: string[] = [];
    const fx = new ForcedExitBot({
      db,
      client: chain.client,
      exchange,
      tx,
      waitSec: 10 * 86_400,
      onServed: (s) => served.push(`${s.account}:${s.market}`),
    });
    let r = await fx.round();
    expect(r.open.map((o) => [o.account, o.freezableAfter, o.serveAt])).to.deep.equal([
      [va, freezableAfter, freezableAfter - grace + grace / 2n],
    ]);
    expect(r.sent).to.deep.equal([]);
    await forward(Number(grace / 2n));
    r = await fx.round();
    expect(r.failures).to.deep.equal([]);
    expect(r.sent).to.deep.equal([`${va}:0`]);
    const left = Number(freezableAfter - r.now);
    expect(left >= Number(grace / 2n) - 60, "served with at least half the grace period left").to.equal(true);
    // mined (automine) but not yet final for the manager: no second transaction
    r = await fx.round();
    expect(r.sent).to.deep.equal([]);
    await roundsUntil(fx, tx, async () => served.length > 0);
    expect(served).to.deep.equal([`${va}:0`]);
    expect(await read<bigint>("positionOf", [v.address, 0])).to.equal(0n);
    expect(await read<bigint>("positionOf", [bot, 0])).to.equal(10_000_000n);
    expect((await read<[bigint, number, bigint]>("exitOf", [v.address]))[0]).to.equal(0n);
    // a restarted bot sends nothing either
    const again = new ForcedExitBot({ db, client: chain.client, exchange, tx });
    expect((await again.round()).sent).to.deep.equal([]);
    const keys = await db.query<{ key: string }>("SELECT key FROM tx_intents WHERE key LIKE 'forcedExit:%'");
    expect(keys.rows.map((x) => x.key)).to.deep.equal([`forcedExit:${va}:0:${freezableAfter}:0`]);

    // the listener: the takeover moves the position, ForcedExitServed releases the account
    const after = await pump();
    expect(after.filter((c) => c.type === "restrict").map((c) => [c.account, c.reduceOnly])).to.deep.equal([
      [va, false],
    ]);
    expect(engine.accountView(va)!.positions.get(0) ?? 0).to.equal(0);
    expect(place(v.address, "BUY", 59_000n * USD, 1_000_000n).ok).to.equal(true);

    // past the grace period nobody can freeze on this request
    await forward(Number(grace));
    expect(await freezeReverts(v.address)).to.equal("NoForcedExit");
    expect(await read<boolean>("frozen")).to.equal(false);
    expect((await fx.round()).open).to.deep.equal([]);
  });

  it("a bot without margin alerts with the reason and the time left, retries, and serves once funded; a flat account is cleared", async () => {
    const { v, w } = await longPosition();
    const va = v.address.toLowerCase();
    const key = await botKey(0n); // no collateral: cannot take 0.1 BTC over
    const bot = privateKeyToAccount(key).address;
    const tx = await txManager(key);
    const failures: ForcedExitFailure[] = [];
    const fx = new ForcedExitBot({ db, client: chain.client, exchange, tx, onFailure: (f) => failures.push(f) });
    await send(v.key, "requestForcedExit", [0n]);
    await pump();
    const [freezableAfter] = await read<[bigint, number, bigint]>("exitOf", [v.address]);
    let r = await fx.round();
    expect(r.sent).to.deep.equal([]);
    // (only this test's accounts: the chain is shared with the other test)
    r.failures = r.failures.filter((f) => f.account === va);
    expect(r.failures.map((f) => [f.account, f.market, f.reason])).to.deep.equal([[va, 0, "InsufficientMargin"]]);
    expect(r.failures[0].timeLeft).to.equal(Number(freezableAfter - r.now));
    expect(r.failures[0].timeLeft > 0).to.equal(true);
    r = await fx.round();
    expect(r.failures.filter((f) => f.account === va).length).to.equal(1); // retried
    expect(failures.filter((f) => f.account === va).length).to.equal(2);
    // funded: served at the next round
    const h = await chain.deployer.writeContract({
      address: exchange,
      abi: exchangeAbi,
      functionName: "depositFor",
      args: [bot, 100_000n * USD],
    });
    await chain.client.waitForTransactionReceipt({ hash: h });
    r = await fx.round();
    expect(r.sent).to.deep.equal([`${va}:0`]);
    await roundsUntil(fx, tx, async () => (await read<[bigint, number, bigint]>("exitOf", [v.address]))[0] === 0n);

    // another account files, then the operator's batch closes its position: cleared, not served
    const y = await tm.trader(20_000n * USD);
    await tm.settle([await tm.trade(w, y, { makerIsBuy: false, size: 10_000_000n })]);
    await send(y.key, "requestForcedExit", [0n]);
    await tm.settle([await tm.trade(w, y, { makerIsBuy: true, size: 10_000_000n })]);
    expect(await read<bigint>("positionOf", [y.address, 0])).to.equal(0n);
    await pump();
    r = await fx.round();
    expect(r.sent).to.deep.equal([`${y.address.toLowerCase()}:clear`]);
    await roundsUntil(fx, tx, async () => (await read<[bigint, number, bigint]>("exitOf", [y.address]))[0] === 0n);
    const cmds = await pump();
    expect(cmds.filter((c) => c.type === "restrict").map((c) => [c.account, c.reduceOnly])).to.deep.include.members([
      [y.address.toLowerCase(), false],
    ]);
  });
});

describe("keeper forced exit: config and the listener's restrict undo", () => {
  it("FORCED_EXIT_* keys, else the liquidator's; enabled with either; the wait setting", () => {
    const base = { EXCHANGE_ADDRESS: "0x" + "11".repeat(20) };
    const none = loadConfig({ ...base });
    expect(none.forcedExitEnabled).to.equal(false);
    const liq = loadConfig({ ...base, LIQUIDATOR_PRIVATE_KEY: "0xaa" });
    expect(liq.forcedExitEnabled).to.equal(true);
    expect(liq.forcedExitKey.privateKey).to.equal("0xaa");
    expect(liq.forcedExitWaitSec).to.equal(0);
    const own = loadConfig({
      ...base,
      LIQUIDATOR_PRIVATE_KEY: "0xaa",
      FORCED_EXIT_PRIVATE_KEY: "0xbb",
      FORCED_EXIT_WAIT_SEC: "3600",
    });
    expect(own.forcedExitKey.privateKey).to.equal("0xbb");
    expect(own.forcedExitWaitSec).to.equal(3600);
    expect(
      loadConfig({ ...base, LIQUIDATOR_PRIVATE_KEY: "0xaa", FORCED_EXIT_ENABLED: "0" }).forcedExitEnabled,
    ).to.equal(false);
  });

  it("a reorg undoing only ForcedExitServed restricts again; undoing it with its request (the listener deletes requests first) ends released", async () => {
    const { db, cleanup } = await DB_TARGETS[0].open();
    try {
      const a = "0x" + "ab".repeat(20);
      const cols = "block_number, log_index, block_hash, tx_hash";
      const req = { block_number: "10", log_index: 0, block_hash: "0x1", tx_hash: "0x1", account: a, fee: "5" };
      const served = {
        block_number: "11",
        log_index: 0,
        block_hash: "0x2",
        tx_hash: "0x2",
        name: "ForcedExitServed",
        args: JSON.stringify({ account: "0x" + "AB".repeat(20) }),
      };
      await db.query(
        `INSERT INTO ev_forced_exits (${cols}, account, fee, withdraw_amount, freezable_after) VALUES (10, 0, '0x1', '0x1', $1, 5, 0, 99)`,
        [a],
      );
      await db.query(
        `INSERT INTO ev_other (${cols}, name, args) VALUES (11, 0, '0x2', '0x2', 'ForcedExitServed', $1)`,
        [served.args],
      );
      const restrictOf = (cs: unknown[]) =>
        (cs as Record<string, unknown>[]).filter((c) => c.type === "restrict").map((c) => [c.account, c.reduceOnly]);
      // forward: restricted, then released
      expect(restrictOf(await rowCommands(db, "ev_forced_exits", req, 1, "r"))).to.deep.equal([[a, true]]);
      expect(restrictOf(await rowCommands(db, "ev_other", served, 1, "s"))).to.deep.equal([[a, false]]);
      // only the served row removed: restricted again (its request stands)
      expect(restrictOf(await rowCommands(db, "ev_other", served, -1, "s"))).to.deep.equal([[a, true]]);
      // both removed, requests first (the listener's table order): the served undo restricts nothing
      await db.query("DELETE FROM ev_forced_exits");
      const undoReq = restrictOf(await rowCommands(db, "ev_forced_exits", req, -1, "r"));
      expect(undoReq).to.deep.equal([[a, false]]);
      expect(restrictOf(await rowCommands(db, "ev_other", served, -1, "s"))).to.deep.equal([]);
    } finally {
      await cleanup();
    }
  });
});
