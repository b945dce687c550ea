// Issue 6's fault list, each against the whole keeper (settler + transaction manager + listener) on the
// real Postgres, a Redis and a Hardhat node. In every one: each fill is settled on chain exactly once
// (its order-hash pair appears in one FillSettled), positions are what the fills say, every fill gets a
// final result, the gas key's nonces have no gap, and the listener holds every chain event once.
//
//   - the keeper PROCESS SIGKILLed after broadcasting a batch and before its receipt;
//   - the RPC endpoint dropping while a batch is in flight (keeper behind a cuttable proxy);
//   - a base-fee spike with automine off: the batch transaction is replaced with a fee bump, not duplicated;
//   - Redis restarted (a private redis-server with an append-only file, stopped and started again
//     while fills stream in and batches are in flight);
//   - a batch that fails on chain (another submitter took its batch number, and an account's margin no
//     longer covers its fill): its fills return to the queue, the bad fill is reported failed to the
//     user stream and the matcher, the rest settles once.
// (The reorg three deep and the listener down for 50 blocks: listener.test.ts and candles.test.ts.)
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { toHex, type Address, type Hex } from "viem";
import { exchangeAbi } from "../../sdk/abi";
import { exchangeDomain, hashOrder } from "../../sdk/eip712";
import { RedisBus, type Bus } from "../../keeper/bus";
import { loadConfig, type KeeperConfig } from "../../keeper/config";
import { dropSchema, openDb } from "../../keeper/db";
import { startKeeper, type Keeper } from "../../keeper/keeper";
import { silentLogger } from "../../keeper/log";
import { KeeperMetrics } from "../../keeper/metrics";
import { orderFromJson, type FillMessage, type SettlementResult } from "../../keeper/settler";
import { FILLS, MATCHER_COMMANDS, SETTLEMENT_RESULTS } from "../../keeper/topics";
import { CuttableProxy, DEV_KEYS, addressOf, freePort, testExchange, type TestChain } from "./chain";
import { TradeMaker, type Trader } from "./fills";
import { PG_URL, REDIS_URL, sleep, uniqueName, until } from "./helpers";

const ROOT = path.resolve(__dirname, "../..");

describe("keeper faults (whole keeper: Postgres, Redis, Hardhat)", function () {
  this.timeout(180_000);
  let chain: TestChain;
  let exchange: Address;
  let tm: TradeMaker;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    const d = await testExchange();
    chain = d.chain;
    exchange = d.exchange;
    tm = new TradeMaker(chain, exchange, d.collateral);
    await tm.init();
  });
  afterEach(async () => {
    await chain.setAutomine(true);
    await chain.rpc("evm_setIntervalMining", [0]);
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  interface Setup {
    cfg: KeeperConfig;
    env: Record<string, string>;
    schema: string;
    prefix: string;
    gasKey: Hex;
    bus: Bus;
    from: bigint;
  }

  /** A keeper configuration on its own schema, prefix and gas key; a producer bus on the same prefix. */
  async function setup(extra: Record<string, string> = {}, redisUrl = REDIS_URL): Promise<Setup> {
    const schema = uniqueName("flt");
    const prefix = `${uniqueName("flt")}:`;
    const gasKey = await chain.fundedKey();
    const from = await chain.client.getBlockNumber();
    const env: Record<string, string> = {
      RPC_URL: chain.url,
      EXCHANGE_ADDRESS: exchange,
      LISTENER_FROM_BLOCK: String(from + 1n),
      DATABASE_URL: PG_URL,
      DB_SCHEMA: schema,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      OPERATOR_PRIVATE_KEY: DEV_KEYS[0],
      GAS_PRIVATE_KEY: gasKey,
      BATCH_MAX_FILLS: "4",
      BATCH_MAX_WAIT_MS: "100",
      TX_POLL_MS: "50",
      TX_REPLACE_AFTER_BLOCKS: "2",
      LISTENER_POLL_MS: "50",
      LISTENER_REORG_WINDOW: "2",
      METRICS_PORT: "0",
      LOG_LEVEL: "error",
      BUS_FILE: "",
      ...extra,
    };
    const bus = new RedisBus({ url: redisUrl, prefix, name: uniqueName("prod") });
    cleanups.push(async () => {
      await (bus as RedisBus).deleteAll().catch(() => {});
      await bus.close();
      await dropSchema(PG_URL, schema);
    });
    return { cfg: loadConfig(env), env, schema, prefix, gasKey, bus, from };
  }

  async function runKeeper(cfg: KeeperConfig, metrics = new KeeperMetrics(false)): Promise<Keeper> {
    const k = await startKeeper(cfg, { log: silentLogger, metrics });
    cleanups.push(() => k.stop());
    return k;
  }

  const orderHashes = (f: FillMessage) => {
    const d = exchangeDomain(31337, exchange);
    return `${hashOrder(d, orderFromJson(f.maker.order))}:${hashOrder(d, orderFromJson(f.taker.order))}`;
  };

  /** FillSettled on chain since `from`, as maker:taker order-hash pairs. */
  async function settledOnChain(from: bigint): Promise<string[]> {
    const logs = await chain.client.getContractEvents({
      address: exchange,
      abi: exchangeAbi,
      eventName: "FillSettled",
      fromBlock: from,
      toBlock: "latest",
    });
    return logs.map((l) => `${l.args.makerOrderHash}:${l.args.takerOrderHash}`);
  }

  const position = (a: Address) =>
    chain.client.readContract({ address: exchange, abi: exchangeAbi, functionName: "positionOf", args: [a, 0] });

  /** Final results per tradeId from the stream (at-least-once: repeats must agree). */
  async function results(bus: Bus): Promise<Map<number, SettlementResult>> {
    const out = new Map<number, SettlementResult>();
    for (const e of await bus.read<SettlementResult>(SETTLEMENT_RESULTS, "0", { count: 100_000 })) {
      const prev = out.get(e.data.tradeId);
      if (prev) expect(prev.status, `repeated result of trade ${e.data.tradeId}`).to.equal(e.data.status);
      out.set(e.data.tradeId, e.data);
    }
    return out;
  }

  /** The invariants every fault test ends with. */
  async function expectExactlyOnce(
    s: Setup,
    fills: FillMessage[],
    expected: { settled: FillMessage[]; failed?: FillMessage[] },
    k: Keeper,
  ): Promise<void> {
    const onChain = await settledOnChain(s.from + 1n);
    const want = expected.settled.map(orderHashes);
    for (const h of want)
      expect(
        onChain.filter((x) => x === h),
        `fill ${h} settled once`,
      ).to.have.length(1);
    for (const f of expected.failed ?? []) expect(onChain).to.not.include(orderHashes(f));
    const rs = await results(s.bus);
    for (const f of expected.settled) expect(rs.get(f.tradeId)?.status, `trade ${f.tradeId}`).to.equal("settled");
    for (const f of expected.failed ?? []) expect(rs.get(f.tradeId)?.status, `trade ${f.tradeId}`).to.equal("failed");
    expect(rs.size).to.equal(fills.length);
    // the database agrees, and no fill is waiting
    const st = await k.db.query<{ trade_id: string; status: string }>("SELECT trade_id, status FROM settle_fills");
    expect(st.rows.filter((r) => r.status === "settled")).to.have.length(expected.settled.length);
    expect(st.rowCount).to.equal(fills.length);
    // the gas key's transactions: nonces 0..n-1, no gap, each intent mined once
    const it = await k.db.query<{ nonce: string; status: string }>(
      "SELECT nonce, status FROM tx_intents ORDER BY nonce",
    );
    expect(it.rows.map((r) => Number(r.nonce))).to.deep.equal([...Array(it.rowCount).keys()]);
    expect(it.rows.every((r) => r.status === "confirmed")).to.equal(true);
    expect(await chain.client.getTransactionCount({ address: addressOf(s.gasKey) })).to.equal(it.rowCount);
    // the listener: every FillSettled of the chain once
    await until(async () => {
      const r = await k.db.query<{ n: string }>("SELECT count(*) AS n FROM ev_fills");
      return Number(r.rows[0].n) === onChain.length;
    }, 30_000);
    const dup = await k.db.query(
      "SELECT maker_order_hash, taker_order_hash FROM ev_fills GROUP BY 1, 2 HAVING count(*) > 1",
    );
    expect(dup.rowCount).to.equal(0);
  }

  /** Mines a block every `ms` until stopped (automine off). */
  function miner(ms = 200): { stop: () => void } {
    let on = true;
    void (async () => {
      while (on) {
        await chain.mine().catch(() => {});
        await sleep(ms);
      }
    })();
    return { stop: () => (on = false) };
  }

  it("keeper process SIGKILLed after broadcasting a batch, before its receipt: the restarted keeper settles every fill once, no nonce gap", async () => {
    const s = await setup();
    const [a, b] = [await tm.trader(), await tm.trader()];
    const fills: FillMessage[] = [];
    for (let i = 0; i < 6; i++) fills.push(await tm.trade(i % 2 ? b : a, i % 2 ? a : b, { makerIsBuy: i % 2 === 0 }));
    await chain.setAutomine(false);
    // the keeper itself (node with the tsx loader), not a tsx wrapper: the SIGKILL must hit the process
    // that holds the keys and the connections
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "keeper/main.ts")], {
      cwd: ROOT,
      env: { ...process.env, ...s.env },
      stdio: "ignore",
    });
    const exited = new Promise<string | null>((r) => child.once("exit", (_c, sig) => r(sig)));
    cleanups.push(async () => void child.kill("SIGKILL"));
    await s.bus.appendMany(FILLS, fills);
    // wait until the child has broadcast a batch (attempt recorded with its send block), then kill it
    const db = await openDb({ url: PG_URL, schema: s.schema, poolSize: 1 });
    try {
      await until(async () => {
        const r = await db
          .query("SELECT 1 FROM tx_attempts WHERE sent_block IS NOT NULL")
          .catch(() => ({ rowCount: 0 }));
        return r.rowCount > 0;
      }, 60_000);
    } finally {
      await db.close();
    }
    // broadcast and in the node's pool, none mined. With BATCH_MAX_FILLS 4 the 6 fills make two batches,
    // and the second may be sent (batches go out up to BATCH_MAX_IN_FLIGHT at a time) before this read:
    // one or two in flight are both the state under test
    const gas = addressOf(s.gasKey);
    const pendingBefore = await chain.client.getTransactionCount({ address: gas, blockTag: "pending" });
    expect(pendingBefore).to.be.within(1, 2);
    expect(await chain.client.getTransactionCount({ address: gas, blockTag: "latest" })).to.equal(0);
    child.kill("SIGKILL");
    expect(await exited).to.equal("SIGKILL");
    expect(() => process.kill(child.pid!, 0), "the keeper process is gone").to.throw(/ESRCH/);
    await chain.mine(); // the batch is mined while no keeper runs
    const m = miner();
    try {
      const k = await runKeeper(s.cfg);
      await until(async () => (await results(s.bus)).size === fills.length, 60_000);
      m.stop();
      await chain.setAutomine(true);
      await expectExactlyOnce(s, fills, { settled: fills }, k);
      expect(await position(a.address)).to.equal(6n * 1_000_000n); // a bought 0.01 in each fill, once
    } finally {
      m.stop();
    }
  });

  it("RPC endpoint dropping while batches are in flight: every fill settles once; the listener misses nothing", async () => {
    const proxy = new CuttableProxy(chain.port);
    await proxy.start();
    cleanups.push(() => proxy.stop());
    const s = await setup({ RPC_URL: proxy.url });
    const [a, b] = [await tm.trader(), await tm.trader()];
    const fills: FillMessage[] = [];
    for (let i = 0; i < 12; i++) fills.push(await tm.trade(a, b, { price: 60_000_000_000n + BigInt(i) * 100_000n }));
    await chain.setAutomine(false);
    const k = await runKeeper(s.cfg);
    await s.bus.appendMany(FILLS, fills);
    await until(
      async () => (await k.db.query("SELECT 1 FROM tx_attempts WHERE sent_block IS NOT NULL")).rowCount > 0,
      30_000,
    );
    await proxy.cut(); // mid-batch: sent, not yet mined; receipts, logs and new batches all fail now
    await chain.mine();
    await sleep(1500);
    await chain.mine();
    await proxy.restore();
    const m = miner();
    try {
      await until(async () => (await results(s.bus)).size === fills.length, 60_000);
    } finally {
      m.stop();
    }
    await chain.setAutomine(true);
    await expectExactlyOnce(s, fills, { settled: fills }, k);
    expect(await position(a.address)).to.equal(12n * 1_000_000n);
  });

  it("base-fee spike with automine off: the batch is replaced with a fee bump and mined once", async () => {
    const s = await setup({ BATCH_MAX_FILLS: "10" });
    const [a, b] = [await tm.trader(), await tm.trader()];
    const fills = [await tm.trade(a, b), await tm.trade(b, a, { makerIsBuy: false }), await tm.trade(a, b)];
    await chain.setAutomine(false);
    const k = await runKeeper(s.cfg);
    await s.bus.appendMany(FILLS, fills);
    const first = await until(async () => {
      const r = await k.db.query<{ max_fee_per_gas: string }>(
        "SELECT max_fee_per_gas FROM tx_attempts WHERE sent_block IS NOT NULL ORDER BY attempt",
      );
      return r.rows[0];
    }, 30_000);
    await chain.rpc("hardhat_setNextBlockBaseFeePerGas", [toHex(BigInt(first.max_fee_per_gas) * 50n)]);
    await chain.mine(); // too expensive for the first attempt
    await until(async () => (await k.db.query("SELECT 1 FROM tx_attempts")).rowCount >= 1);
    // blocks pass until the manager replaces it (2 blocks after the broadcast), then it is mined
    const m = miner(300);
    try {
      await until(async () => (await results(s.bus)).size === fills.length, 60_000);
    } finally {
      m.stop();
    }
    await chain.setAutomine(true);
    await expectExactlyOnce(s, fills, { settled: fills }, k);
    const atts = await k.db.query<{ hash: Hex; max_fee_per_gas: string }>(
      "SELECT hash, max_fee_per_gas FROM tx_attempts ORDER BY attempt",
    );
    expect(atts.rowCount).to.be.greaterThan(1);
    expect(BigInt(atts.rows[1].max_fee_per_gas) >= (BigInt(atts.rows[0].max_fee_per_gas) * 110n) / 100n).to.equal(true);
    const batch = await k.db.query<{ tx_hash: Hex }>("SELECT tx_hash FROM settle_batches WHERE status = 'settled'");
    expect(batch.rowCount).to.equal(1);
    expect(atts.rows.slice(1).map((r) => r.hash)).to.include(batch.rows[0].tx_hash);
    expect(await position(a.address)).to.equal(3_000_000n); // bought 0.01 in each of the three, once
  });

  it("Redis restarted (own server, append-only file) while fills stream in: nothing lost, nothing settled twice", async () => {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kredis-"));
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--save",
      "",
    ];
    let server: ChildProcess | undefined;
    const startRedis = async () => {
      server = spawn("redis-server", args, { stdio: "ignore" });
      const { Redis } = await import("ioredis");
      await until(
        async () => {
          const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => null });
          r.on("error", () => {});
          try {
            await r.connect();
            return (await r.ping()) === "PONG";
          } catch {
            return false;
          } finally {
            r.disconnect();
          }
        },
        15_000,
        50,
      );
    };
    const stopRedis = async () => {
      const p = server!;
      const gone = new Promise((r) => p.once("exit", r));
      p.kill("SIGTERM"); // a clean shutdown: the append-only file has everything acknowledged
      await gone;
    };
    await startRedis();
    cleanups.push(async () => {
      server?.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const s = await setup({}, `redis://127.0.0.1:${port}`);
    const k = await runKeeper(s.cfg);
    const traders: Trader[] = [await tm.trader(), await tm.trader(), await tm.trader()];
    const fills: FillMessage[] = [];
    for (let wave = 0; wave < 3; wave++) {
      const batch: FillMessage[] = [];
      for (let i = 0; i < 5; i++) batch.push(await tm.trade(traders[(wave + i) % 3], traders[(wave + i + 1) % 3]));
      fills.push(...batch);
      for (;;) {
        try {
          await s.bus.appendMany(FILLS, batch);
          break;
        } catch {
          await sleep(100); // the producer retries while Redis is down
        }
      }
      await sleep(150); // a batch goes out
      await stopRedis();
      await sleep(500);
      await startRedis();
    }
    await until(async () => (await results(s.bus).catch(() => new Map())).size === fills.length, 60_000);
    await expectExactlyOnce(s, fills, { settled: fills }, k);
    // the chain events reached the bus stream without loss (repeats, if any, carry the same identity)
    const evs = await s.bus.read<{ name?: string; blockHash?: string; logIndex?: number }>("chain.events", "0", {
      count: 100_000,
    });
    const ids = new Set(
      evs.filter((e) => e.data.name === "FillSettled").map((e) => `${e.data.blockHash}:${e.data.logIndex}`),
    );
    expect(ids.size).to.equal(fills.length);
  });

  it("a batch that fails on chain (its number taken by another submitter; an account's margin no longer covers its fill): its fills are requeued, the bad fill is reported failed to the user and the matcher, the rest settles once", async () => {
    const s = await setup({ BATCH_MAX_FILLS: "10", BATCH_MAX_WAIT_MS: "50" });
    const [a, b] = [await tm.trader(), await tm.trader()];
    const poor = await tm.trader(1_000n * 10n ** 6n); // 1,000 USD: 0.1 BTC at 60,000 needs 600 initial margin
    const c = await tm.trader();
    const ok1 = await tm.trade(a, b);
    const bad = await tm.trade(c, poor, { size: 10_000_000n, makerIsBuy: false }); // poor buys 0.1 BTC
    const ok2 = await tm.trade(b, a, { makerIsBuy: false });
    await chain.setAutomine(false);
    const k = await runKeeper(s.cfg);
    await s.bus.appendMany(FILLS, [ok1, bad, ok2]);
    await until(
      async () => (await k.db.query("SELECT 1 FROM tx_attempts WHERE sent_block IS NOT NULL")).rowCount > 0,
      30_000,
    );
    // another submitter settles first, in the same block (higher tip): it takes the batch number and
    // poor's margin with another 0.1 BTC
    const other = await tm.trade(c, poor, { size: 10_000_000n, makerIsBuy: false });
    const sent = tm.settle([other], { maxPriorityFeePerGas: 50_000_000_000n });
    await sleep(200);
    await chain.mine();
    await sent;
    const m = miner();
    try {
      await until(async () => (await results(s.bus)).size === 3, 60_000);
    } finally {
      m.stop();
    }
    await chain.setAutomine(true);
    const reverted = await k.db.query("SELECT 1 FROM tx_intents WHERE receipt_status = 'reverted'");
    expect(reverted.rowCount).to.equal(1); // the keeper's first transaction failed on chain
    await expectExactlyOnce(s, [ok1, bad, ok2], { settled: [ok1, ok2], failed: [bad] }, k);
    const rs = await results(s.bus);
    expect(rs.get(bad.tradeId)!.reason).to.equal("AccountMarginCheckFailed");
    const cmds = (
      await s.bus.read<{ type: string; tradeId: number; ok: boolean }>(MATCHER_COMMANDS, "0", { count: 1000 })
    )
      .map((e) => e.data)
      .filter((x) => x.type === "settlement");
    expect(cmds.filter((x) => x.tradeId === bad.tradeId).map((x) => x.ok)).to.deep.equal([false]);
    expect(cmds.filter((x) => x.tradeId === ok1.tradeId).map((x) => x.ok)).to.deep.equal([true]);
    expect(await position(poor.address)).to.equal(10_000_000n); // only the other submitter's fill
    expect(await position(a.address)).to.equal(2_000_000n);
  });
});
