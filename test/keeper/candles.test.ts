// Candles from settled fills (keeper/listener/candles.ts) on real Postgres and PGlite: the incremental
// upsert equals a from-scratch aggregation whatever the order and chunking of the fills; a rollback
// recomputes exactly what remains; on a Hardhat chain the listener's candles equal the chain's fills
// (timed by their blocks, with the matcher's tradeIds when the settler's batch is known), through a
// reorg three blocks deep and the same block twice; and the gateway serves them (REST and @kline) and
// keeps them across a restart.
import { expect } from "chai";
import WebSocket from "ws";
import type { Address, Hex } from "viem";
import { exchangeAbi } from "../../sdk/abi";
import { MemoryBus } from "../../keeper/bus";
import type { Db } from "../../keeper/db";
import { Listener } from "../../keeper/listener";
import {
  CANDLE_INTERVALS,
  CANDLE_LEVELS,
  fillKey,
  loadCandles,
  rebuildCandles,
  upsertCandles,
  type Candle,
  type CandleFill,
} from "../../keeper/listener/candles";
import { CANDLES } from "../../keeper/topics";
import { MarketFeeds } from "../../matcher/bridge/feeds";
import { Gateway } from "../../matcher/gateway/gateway";
import { LocalVenue, defaultMarkets } from "../../matcher/gateway/venue/local";
import { createLogger } from "../../matcher/gateway/log";
import { testExchange, type TestChain } from "./chain";
import { TradeMaker } from "./fills";
import { DB_TARGETS, until } from "./helpers";

/** Reference: candles of `fills` computed naively (sort by chain position, group, fold). */
function reference(fills: readonly CandleFill[]): Map<string, Omit<Candle, "version">> {
  const out = new Map<string, Omit<Candle, "version">>();
  const sorted = [...fills].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const iv of CANDLE_LEVELS) {
    const ms = CANDLE_INTERVALS[iv];
    const groups = new Map<string, CandleFill[]>();
    for (const f of sorted) {
      const k = `${f.market}:${iv}:${f.time - (f.time % ms)}`;
      groups.set(k, [...(groups.get(k) ?? []), f]);
    }
    for (const [k, g] of groups) {
      const q = (f: CandleFill) => (f.size * f.price) / 100_000_000n;
      const sum = (fn: (f: CandleFill) => bigint) => g.reduce((s, f) => s + fn(f), 0n).toString();
      out.set(k, {
        market: g[0].market,
        interval: iv,
        openTime: g[0].time - (g[0].time % ms),
        open: g[0].price.toString(),
        high: g.reduce((m, f) => (f.price > m ? f.price : m), 0n).toString(),
        low: g.reduce((m, f) => (f.price < m ? f.price : m), g[0].price).toString(),
        close: g[g.length - 1].price.toString(),
        volume: sum((f) => f.size),
        quote: sum(q),
        trades: g.length,
        takerBuyVolume: sum((f) => (f.takerIsBuy ? f.size : 0n)),
        takerBuyQuote: sum((f) => (f.takerIsBuy ? q(f) : 0n)),
        firstTrade: g[0].tradeId,
        lastTrade: g[g.length - 1].tradeId,
      });
    }
  }
  return out;
}

async function stored(db: Db): Promise<Map<string, Omit<Candle, "version">>> {
  const out = new Map<string, Omit<Candle, "version">>();
  for (const m of [0, 1])
    for (const iv of CANDLE_LEVELS)
      for (const c of await loadCandles(db, m, iv, { startTime: 0, limit: 5000 })) {
        const { version: _v, ...rest } = c;
        out.set(`${c.market}:${iv}:${c.openTime}`, rest);
      }
  return out;
}

/** Deterministic pseudo-random numbers (xorshift). */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe("keeper/candles", function () {
  this.timeout(120_000);

  for (const target of DB_TARGETS) {
    describe(`on ${target.name}`, () => {
      let db: Db;
      let cleanup: () => Promise<void>;
      beforeEach(async () => ({ db, cleanup } = await target.open()));
      afterEach(async () => cleanup());

      it("merges fills in any order and chunking into the same candles as one aggregation; a rollback recomputes what remains", async () => {
        const rand = rng(7);
        const t0 = Date.UTC(2025, 0, 1, 23, 0, 0); // crosses midnight: every interval gets several buckets
        const fills: CandleFill[] = [];
        for (let i = 0; i < 400; i++) {
          const block = 100n + BigInt(Math.floor(i / 3));
          fills.push({
            market: rand() < 0.7 ? 0 : 1,
            price: 60_000_000_000n + BigInt(Math.floor(rand() * 2_000_000_000)) - 1_000_000_000n,
            size: BigInt(1 + Math.floor(rand() * 5_000_000)),
            takerIsBuy: rand() < 0.5,
            key: fillKey(block, i % 3),
            time: t0 + Number(block - 100n) * 12_000, // 12 s blocks: 134 blocks, ~27 minutes
            tradeId: 1000 + i,
          });
        }
        // ev_fills rows (what a rollback recomputes from)
        for (const f of fills) {
          await db.query(
            `INSERT INTO ev_fills (block_number, log_index, block_hash, tx_hash, batch, maker, taker, maker_order_hash,
               taker_order_hash, market, taker_is_buy, size, price, maker_fee, taker_fee, block_time, trade_id)
             VALUES ($1, $2, '0x', '0x', 0, '0x', '0x', '0x', '0x', $3, $4, $5, $6, 0, 0, $7, $8)`,
            [
              (f.key >> 20n).toString(),
              Number(f.key & 0xfffffn),
              f.market,
              f.takerIsBuy,
              f.size.toString(),
              f.price.toString(),
              f.time,
              f.tradeId,
            ],
          );
        }
        // shuffled, in random chunks
        const shuffled = [...fills].sort(() => rand() - 0.5);
        for (let i = 0; i < shuffled.length;) {
          const n = 1 + Math.floor(rand() * 40);
          await db.tx((q) => upsertCandles(q, shuffled.slice(i, i + n)));
          i += n;
        }
        expect(await stored(db)).to.deep.equal(reference(fills));
        // roll back everything above block 180 (a deep cut through several 1m..1h buckets)
        const cut = 180n;
        const gone = fills.filter((f) => f.key >> 20n > cut);
        await db.query("DELETE FROM ev_fills WHERE block_number > $1", [cut.toString()]);
        const msgs = await db.tx((q) => rebuildCandles(q, gone));
        const keep = fills.filter((f) => f.key >> 20n <= cut);
        expect(await stored(db)).to.deep.equal(reference(keep));
        expect(msgs.some((m) => m.type === "candleRemoved")).to.equal(true);
        expect(msgs.some((m) => m.type === "candle")).to.equal(true);
        const versions = msgs.map((m) => BigInt(m.version));
        expect(new Set(versions.map(String)).size).to.equal(versions.length);
      });
    });
  }

  describe("listener on a Hardhat chain, and the gateway", () => {
    let chain: TestChain;
    let exchange: Address;
    let tm: TradeMaker;

    before(async () => {
      const d = await testExchange();
      chain = d.chain;
      exchange = d.exchange;
      tm = new TradeMaker(chain, exchange, d.collateral);
      await tm.init();
    });

    /** The chain's fills since `from` as CandleFills (block timestamps), for the reference. */
    async function chainFills(from: bigint, tradeIds = new Map<string, number>()): Promise<CandleFill[]> {
      const logs = await chain.client.getContractEvents({
        address: exchange,
        abi: exchangeAbi,
        eventName: "FillSettled",
        fromBlock: from,
        toBlock: "latest",
      });
      const out: CandleFill[] = [];
      for (const l of logs) {
        const b = await chain.client.getBlock({ blockNumber: l.blockNumber });
        out.push({
          market: Number(l.args.market),
          price: BigInt(l.args.price!),
          size: BigInt(l.args.size!),
          takerIsBuy: Boolean(l.args.takerIsBuy),
          key: fillKey(l.blockNumber, l.logIndex),
          time: Number(b.timestamp) * 1000,
          tradeId: tradeIds.get(`${l.blockNumber}:${l.logIndex}`) ?? null,
        });
      }
      return out;
    }

    for (const target of DB_TARGETS) {
      it(`on ${target.name}: candles equal the chain's fills through a reorg 3 deep; tradeIds from the settler's batches; the same block twice is a no-op`, async () => {
        const { db, cleanup } = await target.open();
        const bus = new MemoryBus();
        const pushed: { type: string }[] = [];
        await bus.subscribe(CANDLES, (m) => pushed.push(m as { type: string }));
        try {
          const from = (await chain.client.getBlockNumber()) + 1n;
          const l = new Listener({ db, bus, client: chain.client, exchange, fromBlock: from, reorgWindow: 4 });
          const [a, b] = [await tm.trader(), await tm.trader()];
          // batch 1: its trade ids known to "our settler" (a settle_batches row as the settler writes it)
          const f1 = [await tm.trade(a, b, { price: 60_100_000_000n }), await tm.trade(b, a, { makerIsBuy: false })];
          const expired = await tm.trade(a, b, { takerExpiry: 1n }); // skipped: fill index 1
          const f1b = await tm.trade(a, b, { price: 59_900_000_000n });
          const batchFills = [f1[0], expired, f1[1], f1b];
          const nb = (await chain.client.readContract({
            address: exchange,
            abi: exchangeAbi,
            functionName: "nextBatchNumber",
          })) as bigint;
          await db.query(
            `INSERT INTO settle_batches (number, status, trade_ids, deadline, calldata) VALUES ($1, 'submitted', $2::jsonb, 0, '0x')`,
            [nb.toString(), JSON.stringify(batchFills.map((f) => f.tradeId))],
          );
          await tm.settle(batchFills);
          await l.catchUp();
          const ids = await db.query<{ trade_id: string }>(
            "SELECT trade_id FROM ev_fills ORDER BY block_number, log_index",
          );
          expect(ids.rows.map((r) => Number(r.trade_id))).to.deep.equal([f1[0], f1[1], f1b].map((f) => f.tradeId));
          // three more blocks the listener sees, then a reorg replaces them
          const snap = await chain.rpc<Hex>("evm_snapshot");
          for (const p of [61_000_000_000n, 58_000_000_000n, 60_500_000_000n])
            await tm.settle([await tm.trade(a, b, { price: p })]);
          await l.catchUp();
          const byId = new Map<string, number>([...(await ids_(db))]);
          expect(await stored(db)).to.deep.equal(reference(await chainFills(from, byId)));
          await chain.rpc("evm_revert", [snap]);
          await chain.mine(); // the new branch differs from its first block on
          await tm.settle([await tm.trade(b, a, { price: 62_000_000_000n, makerIsBuy: false })]);
          await chain.mine();
          await tm.settle([await tm.trade(a, b, { price: 57_000_000_000n, size: 2_000_000n })]);
          const first = await l.step();
          expect(first.reorg?.depth).to.equal(3);
          await l.catchUp();
          const after = reference(await chainFills(from, new Map([...(await ids_(db))])));
          expect(await stored(db)).to.deep.equal(after);
          // the same block twice: nothing changes, nothing published
          const cp = await l.checkpoint();
          const blk = await chain.client.getBlock({ blockNumber: cp.number });
          const raw = await chain.client.getLogs({ address: exchange, blockHash: blk.hash! });
          expect(raw.length).to.be.greaterThan(0);
          const n = pushed.length;
          expect(await l.commitBlock(blk.number!, blk.hash!, blk.parentHash, raw, blk.timestamp)).to.equal(0);
          expect(await stored(db)).to.deep.equal(after);
          await new Promise((r) => setTimeout(r, 20));
          expect(pushed.length).to.equal(n);
          expect(pushed.some((m) => m.type === "candleRemoved" || m.type === "candle")).to.equal(true);
        } finally {
          await bus.close();
          await cleanup();
        }
      });
    }

    it("the gateway serves the stored candles (REST, every interval) and pushes @kline updates; a restarted gateway has the history", async () => {
      const { db, cleanup } = await DB_TARGETS[0].open();
      const bus = new MemoryBus();
      const specs = defaultMarkets();
      const market = specs[0].id;
      const sym = specs[0].symbol;
      const start = async () => {
        const venue = new LocalVenue(defaultMarkets());
        const gw = new Gateway({
          venue,
          config: { port: 0, recoverWorkers: 0 },
          logger: createLogger("error"),
        });
        const feeds = new MarketFeeds({ bus, router: gw.router, db });
        await feeds.start();
        const port = await gw.start();
        return {
          url: `http://127.0.0.1:${port}`,
          stop: async () => {
            await feeds.stop();
            await gw.stop();
          },
        };
      };
      const t0 = Date.UTC(2025, 0, 6, 0, 0, 0);
      const mk = (i: number, price: bigint, minute: number): CandleFill => ({
        market,
        price,
        size: 1_000_000n,
        takerIsBuy: i % 2 === 0,
        key: fillKey(BigInt(10 + i), 0),
        time: t0 + minute * 60_000,
        tradeId: 500 + i,
      });
      try {
        // history before the gateway starts: 10 minutes, two fills a minute
        const hist: CandleFill[] = [];
        for (let m = 0; m < 10; m++) hist.push(mk(2 * m, 60_000_000_000n + BigInt(m) * 1_000_000n, m));
        for (let m = 0; m < 10; m++) hist.push(mk(2 * m + 1, 59_000_000_000n + BigInt(m) * 1_000_000n, m));
        await db.tx((q) => upsertCandles(q, hist));
        let gw = await start();
        const get = async (q: string) => (await fetch(`${gw.url}/fapi/v1/klines?symbol=${sym}&${q}`)).json();
        const one = (await get("interval=1m&limit=3")) as unknown[][];
        expect(one.map((r) => r[0])).to.deep.equal([7, 8, 9].map((m) => t0 + m * 60_000));
        expect(one[2][8]).to.equal(2); // two trades in the minute
        const five = (await get("interval=5m")) as unknown[][];
        expect(five.map((r) => [r[0], r[8]])).to.deep.equal([
          [t0, 10],
          [t0 + 300_000, 10],
        ]);
        const three = (await get(`interval=3m&startTime=${t0}`)) as unknown[][];
        expect(three.map((r) => [r[0], r[8]])).to.deep.equal([
          [t0, 6],
          [t0 + 180_000, 6],
          [t0 + 360_000, 6],
          [t0 + 540_000, 2],
        ]);
        const week = (await get("interval=1w")) as unknown[][];
        expect(week.reduce((s, r) => s + (r[8] as number), 0)).to.equal(20);
        // a live update reaches @kline_1m and @kline_3m
        const ws = new WebSocket(
          `${gw.url.replace("http", "ws")}/stream?streams=${sym.toLowerCase()}@kline_1m/${sym.toLowerCase()}@kline_3m`,
        );
        const got: { stream: string; data: { k: { t: number; n: number; c: string } } }[] = [];
        ws.on("message", (d) => got.push(JSON.parse(d.toString())));
        await new Promise((r) => ws.once("open", r));
        await new Promise((r) => setTimeout(r, 100));
        const live = mk(100, 61_234_000_000n, 9);
        const rows = await db.tx((q) => upsertCandles(q, [live]));
        for (const c of rows) await bus.publish(CANDLES, { type: "candle", ...c });
        await until(() => got.length >= 2, 5000);
        const k1 = got.find((g) => g.stream.endsWith("kline_1m"))!.data.k;
        expect([k1.t, k1.n, Number(k1.c)]).to.deep.equal([t0 + 9 * 60_000, 3, 61234]);
        const k3 = got.find((g) => g.stream.endsWith("kline_3m"))!.data.k;
        expect([k3.t, k3.n]).to.deep.equal([t0 + 9 * 60_000, 3]);
        // an older version of that candle arriving late changes nothing
        const stale = rows.find((c) => c.interval === "1m")!;
        await bus.publish(CANDLES, { type: "candle", ...stale, trades: 1, version: "1" });
        await new Promise((r) => setTimeout(r, 100));
        expect(got.length).to.equal(2);
        ws.close();
        // restart: the new gateway has the whole history, including the live update
        await gw.stop();
        gw = await start();
        const again = (await get("interval=1m&limit=1000")) as unknown[][];
        expect(again).to.have.length(10);
        expect(again[9][8]).to.equal(3);
        expect(Number(again[9][4])).to.equal(61234);
        await gw.stop();
      } finally {
        await bus.close();
        await cleanup();
      }
    });
  });
});

async function ids_(db: Db): Promise<[string, number][]> {
  const r = await db.query<{ block_number: string; log_index: number; trade_id: string | null }>(
    "SELECT block_number, log_index, trade_id FROM ev_fills WHERE trade_id IS NOT NULL",
  );
  return r.rows.map((x) => [`${x.block_number}:${x.log_index}`, Number(x.trade_id)]);
}
