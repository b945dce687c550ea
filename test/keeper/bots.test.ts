// The liquidator and funding bots against a Hardhat node, with the listener on real Postgres: an account
// pushed below maintenance by an oracle move is found with the sdk formulas, its orders are cancelled in the
// matcher, it is liquidated on chain down to healthy (the size the contract's own view computes), and the
// liquidation reaches the gateway's @forceOrder once (bot and listener both report it); the listener turns
// the event into the matcher's position moves. The funding bot pushes the premium of settled trades over
// the oracle, clamped like the contract, once per interval (a restart pushes nothing twice), and the
// listener turns it into the matcher's funding command.
import { expect } from "chai";
import WebSocket from "ws";
import { createWalletClient, http, parseAbi, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { exchangeAbi, mockAggregatorAbi } from "../../sdk/abi";
import { MemoryBus } from "../../keeper/bus";
import { FundingBot, Liquidator } from "../../keeper/bots";
import type { Db } from "../../keeper/db";
import { Listener } from "../../keeper/listener";
import type { EventMessage, LiquidationMessage } from "../../keeper/listener/events";
import { CHAIN_EVENTS, LIQUIDATIONS, MATCHER_COMMANDS } from "../../keeper/topics";
import { TxManager } from "../../keeper/tx";
import { MarketFeeds } from "../../matcher/bridge/feeds";
import { Gateway } from "../../matcher/gateway/gateway";
import { LocalVenue } from "../../matcher/gateway/venue/local";
import { createLogger } from "../../matcher/gateway/log";
import { marketsFromDeployment } from "../../matcher/markets";
import type { ExchangeDeployment } from "../../scripts/lib/deployExchange";
import { hardhatChain, testExchange, type TestChain } from "./chain";
import { TradeMaker } from "./fills";
import { DB_TARGETS, until } from "./helpers";

const PRICE_ONE = 1_000_000n;
const FEED_ONE = 100_000_000n; // mock feeds have 8 decimals

describe("keeper bots (Hardhat, Postgres)", function () {
  this.timeout(180_000);
  let chain: TestChain;
  let d: ExchangeDeployment & { chain: TestChain };
  let exchange: Address;
  let tm: TradeMaker;
  let db: Db;
  let cleanup: () => Promise<void>;
  let bus: MemoryBus;
  let listener: Listener;

  const read = <T>(functionName: string, args: unknown[] = []) =>
    chain.client.readContract({
      address: exchange,
      abi: exchangeAbi,
      functionName: functionName as never,
      args: args as never,
    }) as Promise<T>;

  /** Sets market 0's oracle (6-decimal price), re-stamped now. */
  async function setPrice(market: number, price: bigint): Promise<void> {
    const h = await chain.deployer.writeContract({
      address: d.markets[market].oracle,
      abi: mockAggregatorAbi,
      functionName: "setAnswer",
      args: [(price * FEED_ONE) / PRICE_ONE],
    });
    await chain.client.waitForTransactionReceipt({ hash: h });
  }

  /** Every feed re-stamped at its initial price (after time jumps; other suites share this chain). */
  async function restoreFeeds(): Promise<void> {
    await setPrice(0, 60_000n * PRICE_ONE);
    await setPrice(1, 3_000n * PRICE_ONE);
  }

  /** Grants `role` to `account` as the admin (the timelock, impersonated). */
  async function grant(role: string, account: Address): Promise<void> {
    const admin = d.admin;
    await chain.rpc("hardhat_impersonateAccount", [admin]);
    await chain.rpc("hardhat_setBalance", [admin, "0x56BC75E2D63100000"]);
    const w = createWalletClient({
      chain: { ...hardhatChain, rpcUrls: { default: { http: [chain.url] } } },
      transport: http(chain.url),
    });
    const roleId = await read<Hex>(role);
    const h = await w.writeContract({
      account: admin,
      address: exchange,
      abi: parseAbi(["function grantRole(bytes32 role, address account)"]),
      functionName: "grantRole",
      args: [roleId, account],
    });
    await chain.client.waitForTransactionReceipt({ hash: h });
    await chain.rpc("hardhat_stopImpersonatingAccount", [admin]);
  }

  async function txManager(key: Hex): Promise<TxManager> {
    const t = new TxManager({
      db,
      client: chain.client,
      account: privateKeyToAccount(key),
      chainId: 31337,
      pollMs: 50,
    });
    await t.init();
    return t;
  }

  before(async () => {
    d = await testExchange();
    chain = d.chain;
    exchange = d.exchange;
    tm = new TradeMaker(chain, exchange, d.collateral);
    await tm.init();
    await restoreFeeds();
  });
  beforeEach(async () => {
    ({ db, cleanup } = await DB_TARGETS[0].open());
    bus = new MemoryBus();
    listener = new Listener({
      db,
      bus,
      client: chain.client,
      exchange,
      fromBlock: BigInt(d.deploymentBlock),
      reorgWindow: 0,
      maxRange: 5000,
    });
  });
  afterEach(async () => {
    await restoreFeeds();
    await bus.close();
    await cleanup();
  });

  it("liquidator: finds the account below maintenance with the sdk, cancels its orders, liquidates it down to healthy, reports it once on @forceOrder; the listener moves both positions in the matcher", async () => {
    // the bot's key: an Exchange account with collateral
    const botKey = await chain.fundedKey();
    const bot = privateKeyToAccount(botKey).address;
    const dep = await chain.deployer.writeContract({
      address: exchange,
      abi: exchangeAbi,
      functionName: "depositFor",
      args: [bot, 200_000n * PRICE_ONE],
    });
    await chain.client.waitForTransactionReceipt({ hash: dep });
    const rich = await tm.trader(1_000_000n * PRICE_ONE);
    const victim = await tm.trader(7_000n * PRICE_ONE);
    // victim long 1 BTC at 60,000 (initial margin 6,000 of its 7,000)
    await tm.settle([await tm.trade(rich, victim, { makerIsBuy: false, size: 100_000_000n })]);
    await listener.catchUp();
    const tx = await txManager(botKey);
    const liq = new Liquidator({ db, bus, client: chain.client, exchange, tx });
    // healthy at 60,000: nothing to do
    let r = await liq.round(true);
    expect(r.liquidatable.map((x) => x.account)).to.not.include(victim.address.toLowerCase());
    // 55,500: equity about 2,470 < maintenance 2,775, not bankrupt
    await setPrice(0, 55_500n * PRICE_ONE);
    const [, , mmBefore] = await read<[bigint, bigint, bigint]>("accountHealth", [victim.address]);
    const viewSize = await read<bigint>("maxLiquidationSize", [victim.address, 0]);
    expect(viewSize > 0n).to.equal(true);
    const posBefore = await read<bigint>("positionOf", [victim.address, 0]);
    const published: LiquidationMessage[] = [];
    await bus.subscribe(LIQUIDATIONS, (m) => published.push(m as LiquidationMessage));
    r = await liq.round(true);
    const mine = r.liquidatable.find((x) => x.account === victim.address.toLowerCase())!;
    expect(mine, "victim found liquidatable").to.not.equal(undefined);
    expect(mine.size).to.equal(viewSize); // the sdk's maxLiquidationSize equals the contract's view
    expect(mine.size < posBefore).to.equal(true); // partial: down to healthy, not the whole position
    expect(r.sent).to.deep.equal([victim.address.toLowerCase()]);
    // the matcher was told to cancel the victim's orders first
    const cmds = (await bus.read<Record<string, unknown>>(MATCHER_COMMANDS, "0", { count: 1000 })).map((e) => e.data);
    expect(
      cmds.some((c) => c.type === "chainCancel" && c.account === victim.address.toLowerCase() && !c.hash),
    ).to.equal(true);
    // mined (automine): confirmed by the manager, reported by the next round
    await until(async () => {
      await tx.tick();
      await liq.round(true);
      return published.length > 0;
    }, 30_000);
    const msg = published[0];
    expect(msg).to.include({
      account: victim.address.toLowerCase(),
      liquidator: bot.toLowerCase(),
      market: 0,
      wasLong: true,
    });
    expect(BigInt(msg.size)).to.equal(mine.size);
    expect(BigInt(msg.price)).to.equal(55_500n * PRICE_ONE);
    expect(await read<bigint>("positionOf", [victim.address, 0])).to.equal(posBefore - mine.size);
    expect(await read<bigint>("positionOf", [bot, 0])).to.equal(mine.size);
    const [eq, , mm] = await read<[bigint, bigint, bigint]>("accountHealth", [victim.address]);
    expect(eq >= mm, "healthy after").to.equal(true);
    expect(mm < mmBefore).to.equal(true);
    // a second round does not liquidate a healthy account again
    r = await liq.round(true);
    expect(r.sent).to.deep.equal([]);

    // the listener: the Liquidated row, the matcher's position moves for both sides, the same message
    const fromListener: LiquidationMessage[] = [];
    await bus.subscribe(LIQUIDATIONS, (m) => fromListener.push(m as LiquidationMessage));
    await listener.catchUp();
    await until(() => fromListener.length > 0, 5000);
    expect(fromListener[0].id).to.equal(msg.id);
    const row = await db.query<{ size_delta: string; account_cash_delta: string }>("SELECT * FROM ev_liquidations");
    expect(row.rowCount).to.equal(1);
    expect(BigInt(row.rows[0].size_delta)).to.equal(-mine.size);
    const moves = (await bus.read<Record<string, unknown>>(MATCHER_COMMANDS, "0", { count: 1000 }))
      .map((e) => e.data)
      .filter((c) => c.type === "liquidation");
    expect(moves.map((c) => [c.account, c.market, c.sizeDelta, c.cashDelta])).to.deep.equal([
      [victim.address.toLowerCase(), 0, -Number(mine.size), Number(row.rows[0].account_cash_delta)],
      [
        bot.toLowerCase(),
        0,
        Number(mine.size),
        Number((await db.query<{ c: string }>("SELECT liquidator_cash_delta AS c FROM ev_liquidations")).rows[0].c),
      ],
    ]);
    // the gateway: @forceOrder once, though both the bot and the listener reported it
    const venue = new LocalVenue(marketsFromDeployment(d as never));
    const gw = new Gateway({ venue, config: { port: 0, recoverWorkers: 0 }, logger: createLogger("error") });
    const feeds = new MarketFeeds({ bus, router: gw.router });
    await feeds.start();
    const port = await gw.start();
    try {
      const sym = [...gw.router.markets.values()].find((m) => m.spec.id === 0)!.spec.symbol.toLowerCase();
      const ws = new WebSocket(`ws://127.0.0.1:${port}/stream?streams=${sym}@forceOrder/!forceOrder@arr`);
      const got: { stream: string; data: { o: { S: string; q: string; p: string } } }[] = [];
      ws.on("message", (b) => got.push(JSON.parse(b.toString())));
      await new Promise((res) => ws.once("open", res));
      await new Promise((res) => setTimeout(res, 100));
      await bus.publish(LIQUIDATIONS, msg);
      await bus.publish(LIQUIDATIONS, fromListener[0]);
      await until(() => got.length >= 2, 5000);
      await new Promise((res) => setTimeout(res, 200));
      expect(got.map((g) => g.stream).sort()).to.deep.equal(["!forceOrder@arr", `${sym}@forceOrder`]);
      expect(got[0].data.o.S).to.equal("SELL");
      expect(Number(got[0].data.o.p)).to.equal(55_500);
      ws.close();
    } finally {
      await feeds.stop();
      await gw.stop();
      await tx.stop();
    }
  });

  it("funding bot: pushes the premium of settled trades over the oracle, clamped like the contract, once per interval; the listener hands the matcher the index move", async () => {
    const key = await chain.fundedKey();
    const funder = privateKeyToAccount(key).address;
    await grant("FUNDING_ROLE", funder);
    const [interval, , maxRateChange] = await read<[bigint, bigint, bigint]>("fundingParams");
    const [a, b] = [await tm.trader(), await tm.trader()];
    // trades settle 1% above the oracle
    await tm.settle([await tm.trade(a, b, { price: 60_600_000_000n })]);
    await listener.catchUp(); // candles of the settled trade
    // a second on, so the trade's minute lies inside the bot's window [now - interval, now): read in the
    // trade's own second, a trade on a whole minute would have no time in it (premium 0)
    await chain.rpc("evm_increaseTime", [1]);
    await chain.mine();
    const tx = await txManager(key);
    const fb = new FundingBot({ db, client: chain.client, exchange, tx, markets: [0] });
    const [, , , lastTime0] = await read<[bigint, bigint, bigint, bigint, bigint]>("fundingState", [0]);
    let out = await fb.round();
    let first: (typeof out)[number];
    if (lastTime0 === 0n) {
      // the market's first update: at once, accrues nothing, the rate moves at most one step from 0
      expect(out).to.have.length(1);
      first = out[0];
      // the last hour's price: the oracle's until the trade, +1% for its last minute
      expect(first.premium > 0n && first.premium < 10_000_000n).to.equal(true);
      expect(first.rate).to.equal(first.premium < maxRateChange ? first.premium : maxRateChange);
      await until(async () => {
        await tx.tick();
        return (await tx.byKey(first.key))?.status === "confirmed";
      });
    }
    // not due again within the interval, and a second bot on the same store sends nothing either
    expect(await fb.round()).to.deep.equal([]);
    const [, , rate1, time1] = await read<[bigint, bigint, bigint, bigint, bigint]>("fundingState", [0]);
    // a whole interval later (feeds re-stamped: they go stale after an hour)
    await chain.rpc("evm_increaseTime", [Number(interval)]);
    await chain.mine();
    await restoreFeeds();
    out = await fb.round();
    expect(out).to.have.length(1);
    const dec = out[0];
    expect(dec.key).to.equal(`funding:0:${time1}`);
    expect(dec.lastRate).to.equal(rate1);
    expect(dec.index).to.equal(60_000_000_000n);
    expect(dec.mark).to.equal(60_600_000_000n); // the last settled price, carried over the interval
    expect(dec.rate).to.equal(rate1 + maxRateChange < 1_000_000n ? rate1 + maxRateChange : 1_000_000n);
    const again = new FundingBot({ db, client: chain.client, exchange, tx, markets: [0] });
    expect(await again.round()).to.deep.equal([]); // same interval, same key: nothing twice
    await until(async () => {
      await tx.tick();
      return (await tx.byKey(dec.key))?.status === "confirmed";
    });
    const [, , rate2] = await read<[bigint, bigint, bigint, bigint, bigint]>("fundingState", [0]);
    expect(rate2).to.equal(dec.rate); // what was asked is what applied
    // the listener: FundingUpdated stored with its index move, the matcher's funding command, the gateway's rate
    const venue = new LocalVenue(marketsFromDeployment(d as never));
    const gw = new Gateway({ venue, config: { port: 0, recoverWorkers: 0 }, logger: createLogger("error") });
    const feeds = new MarketFeeds({ bus, router: gw.router, chain: { client: chain.client, exchange } });
    await feeds.start();
    const port = await gw.start();
    const [, , , time2] = await read<[bigint, bigint, bigint, bigint, bigint]>("fundingState", [0]);
    const sym = gw.router.markets.get(0)!.spec.symbol;
    const premium = async () =>
      (await (await fetch(`http://127.0.0.1:${port}/fapi/v1/premiumIndex?symbol=${sym}`)).json()) as {
        lastFundingRate: string;
        nextFundingTime: number;
      };
    // read from the chain at start: the last update's time plus the interval
    expect((await premium()).nextFundingTime).to.equal(Number(time2 + interval) * 1000);
    await listener.catchUp();
    const pi = await until(async () => {
      const r = await premium();
      return Number(r.lastFundingRate) !== 0 ? r : undefined;
    }, 5000);
    // 1e-9 per interval, shown as a fraction with whole ppm
    expect(pi.lastFundingRate).to.equal((Math.round(Number(dec.rate) / 1000) / 1e6).toFixed(8));
    // the listener's FundingUpdated carries its block's time: the gateway's clock moves with each update
    const published = (await bus.read<EventMessage>(CHAIN_EVENTS, "0", { count: 10_000 }))
      .map((e) => e.data)
      .filter((m) => m.name === "FundingUpdated");
    expect(published.at(-1)!.blockTime).to.equal(Number(time2) * 1000);
    const later = Number(time2) * 1000 + 7_000;
    await bus.publish(CHAIN_EVENTS, { ...published.at(-1)!, blockTime: later });
    await until(async () => (await premium()).nextFundingTime === later + Number(interval) * 1000, 5000);
    // an interval change moves it too; an older update (a late start-time read) does not
    await bus.publish(CHAIN_EVENTS, { type: "event", name: "FundingParamsSet", args: { interval: "600" } });
    await until(async () => (await premium()).nextFundingTime === later + 600_000, 5000);
    await bus.publish(CHAIN_EVENTS, { ...published.at(-1)!, blockTime: later - 1_000 });
    await new Promise((r) => setTimeout(r, 100));
    expect((await premium()).nextFundingTime).to.equal(later + 600_000);
    await feeds.stop();
    await gw.stop();
    const f = await db.query<{ applied_rate: string; requested_rate: string; index_delta: string }>(
      "SELECT applied_rate, requested_rate, index_delta FROM ev_funding ORDER BY block_number DESC LIMIT 1",
    );
    expect(f.rows[0].applied_rate).to.equal(f.rows[0].requested_rate);
    const delta = BigInt(f.rows[0].index_delta);
    // accrued over a whole interval at the oracle mark: mark * rate / 1000 (sdk/funding.ts indexDelta)
    expect(delta).to.equal((60_000_000_000n * dec.rate) / 1000n);
    const cmds = (await bus.read<Record<string, unknown>>(MATCHER_COMMANDS, "0", { count: 1000 }))
      .map((e) => e.data)
      .filter((c) => c.type === "funding");
    expect(cmds.at(-1)).to.include({ market: 0, indexDelta: Number(delta / 1_000_000n) });
    await tx.stop();
  });
});
