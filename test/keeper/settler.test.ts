import { expect } from "chai";
import { createPublicClient, http, type Address, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { exchangeAbi } from "../../sdk/abi";
import { MemoryBus } from "../../keeper/bus";
import type { Db } from "../../keeper/db";
import { Settler, type SettlementResult } from "../../keeper/settler";
import { FILLS, MATCHER_COMMANDS, SETTLEMENT_RESULTS } from "../../keeper/topics";
import { TxManager } from "../../keeper/tx";
import { DEV_KEYS, testExchange, type TestChain } from "./chain";
import { TradeMaker } from "./fills";
import { DB_TARGETS } from "./helpers";

describe("keeper/settler", function () {
  let chain: TestChain;
  let exchange: Address;
  let tm0: TradeMaker;
  let client: PublicClient;

  before(async () => {
    const d = await testExchange();
    chain = d.chain;
    exchange = d.exchange;
    tm0 = new TradeMaker(chain, exchange, d.collateral);
    await tm0.init();
    client = createPublicClient({ transport: http(chain.url), cacheTime: 0, pollingInterval: 50 }) as PublicClient;
  });

  const position = (a: Address) =>
    chain.client.readContract({ address: exchange, abi: exchangeAbi, functionName: "positionOf", args: [a, 0] });
  const nextBatch = () =>
    chain.client.readContract({ address: exchange, abi: exchangeAbi, functionName: "nextBatchNumber" });

  for (const target of DB_TARGETS) {
    describe(`on ${target.name}`, () => {
      let db: Db;
      let bus: MemoryBus;
      let cleanup: () => Promise<void>;

      beforeEach(async () => {
        ({ db, cleanup } = await target.open());
        bus = new MemoryBus();
      });
      afterEach(async () => {
        await chain.setAutomine(true);
        await bus.close();
        await cleanup();
      });

      async function parts(
        gasKey?: `0x${string}`,
        maxCalldataBytes?: number,
        gas: { baseGas?: bigint; gasPerFill?: number } = {},
      ) {
        const tx = new TxManager({
          db,
          client,
          account: privateKeyToAccount(gasKey ?? (await chain.fundedKey())),
          chainId: 31337,
        });
        await tx.init();
        const settler = new Settler({
          db,
          bus,
          client,
          exchange,
          chainId: 31337,
          operator: privateKeyToAccount(DEV_KEYS[0]),
          tx,
          maxFills: 50,
          maxCalldataBytes,
          ...gas,
        });
        return { tx, settler };
      }

      async function run(tx: TxManager, settler: Settler, until: () => Promise<boolean>, mine = false) {
        for (let i = 0; i < 300; i++) {
          await tx.tick();
          await settler.step(true);
          if (await until()) return;
          if (mine) await chain.mine();
        }
        throw new Error("settler did not finish");
      }

      const results = async () =>
        (await bus.read<SettlementResult>(SETTLEMENT_RESULTS, "0", { count: 10_000 })).map((e) => e.data);

      it("settles a batch of fills from the stream, signed by the operator, sent from the gas key, and reports each", async () => {
        const [a, b, c] = [await tm0.trader(), await tm0.trader(), await tm0.trader()];
        const fills = [
          await tm0.trade(a, b),
          await tm0.trade(b, c, { makerIsBuy: false }),
          await tm0.trade(c, a, { makerIsBuy: true, size: 3_000_000n }),
        ];
        await bus.appendMany(FILLS, fills);
        await bus.append(FILLS, fills[1]); // the matcher repeating itself changes nothing
        const before = await nextBatch();
        const { tx, settler } = await parts();
        await run(tx, settler, async () => (await results()).length === 3);
        expect(await nextBatch()).to.equal(before + 1n);
        const rs = await results();
        expect(rs.map((r) => [r.tradeId, r.status])).to.deep.equal(fills.map((f) => [f.tradeId, "settled"]));
        expect(rs[0].txHash).to.match(/^0x[0-9a-f]{64}$/);
        // a: +0.01 (buys from b) -0.03 (sells to c); b: -0.01 (to a) -0.01 (to c); c: +0.01 +0.03
        expect(await position(a.address)).to.equal(1_000_000n - 3_000_000n);
        expect(await position(b.address)).to.equal(-2_000_000n);
        expect(await position(c.address)).to.equal(4_000_000n);
        const cmds = (await bus.read<{ type: string; tradeId: number; ok: boolean }>(MATCHER_COMMANDS, "0")).map(
          (e) => e.data,
        );
        expect(cmds.map((x) => [x.type, x.tradeId, x.ok])).to.deep.equal(
          fills.map((f) => ["settlement", f.tradeId, true]),
        );
        expect(await settler.queueDepth()).to.equal(0);
      });

      it("a batch of one fill goes through on the first transaction: its gas limit leaves every oracle read its reserve", async () => {
        const [a, b] = [await tm0.trader(), await tm0.trader()];
        // both hold positions in both markets: the margin checks read two oracles
        await tm0.settle([
          await tm0.trade(a, b),
          await tm0.trade(b, a, { market: 1, price: 3_000_000_000n, size: 100_000_000n }),
        ]);
        const fill = await tm0.trade(a, b);
        await bus.append(FILLS, fill);
        // a per-fill bound too small for the oracle's gas reserve: the simulation at that limit shows it
        const { tx, settler } = await parts(undefined, undefined, { baseGas: 150_000n, gasPerFill: 10_000 });
        await run(tx, settler, async () => (await results()).length === 1);
        expect((await results())[0].status).to.equal("settled");
        const its = await db.query<{ receipt_status: string }>("SELECT receipt_status FROM tx_intents");
        expect(its.rows.map((r) => r.receipt_status)).to.deep.equal(["success"]);
      });

      it("keeps each batch under the calldata limit, splitting the queue over several batches in order", async () => {
        const [a, b] = [await tm0.trader(), await tm0.trader()];
        const fills = [await tm0.trade(a, b), await tm0.trade(a, b), await tm0.trade(a, b), await tm0.trade(a, b)];
        await bus.appendMany(FILLS, fills);
        const before = await nextBatch();
        const { tx, settler } = await parts(undefined, 800); // about two fresh fills per batch (settlePacked)
        await run(tx, settler, async () => (await results()).length === 4);
        const batches = Number((await nextBatch()) - before);
        expect(batches).to.be.within(2, 4);
        const rs = await results();
        expect(rs.map((r) => [r.tradeId, r.status])).to.deep.equal(fills.map((f) => [f.tradeId, "settled"]));
        const rows = await db.query<{ n: number }>(
          "SELECT jsonb_array_length(trade_ids) AS n FROM settle_batches ORDER BY number",
        );
        expect(rows.rows.map((r) => Number(r.n)).reduce((x, y) => x + y, 0)).to.equal(4);
      });

      it("a fill the contract skips is reported failed with its reason; the rest of the batch settles", async () => {
        const [a, b] = [await tm0.trader(), await tm0.trader()];
        const good1 = await tm0.trade(a, b);
        const expired = await tm0.trade(a, b, { takerExpiry: 1n });
        const good2 = await tm0.trade(b, a, { makerIsBuy: false });
        await bus.appendMany(FILLS, [good1, expired, good2]);
        const { tx, settler } = await parts();
        await run(tx, settler, async () => (await results()).length === 3);
        const rs = new Map((await results()).map((r) => [r.tradeId, r]));
        expect(rs.get(good1.tradeId)!.status).to.equal("settled");
        expect(rs.get(good2.tradeId)!.status).to.equal("settled");
        expect(rs.get(expired.tradeId)!.status).to.equal("failed");
        expect(rs.get(expired.tradeId)!.reason).to.equal("Expired");
        expect(await position(a.address)).to.equal(2_000_000n);
      });

      it("a batch that fails an account's margin check is resubmitted without that account's fills", async () => {
        const [a, b, poor] = [await tm0.trader(), await tm0.trader(), await tm0.trader(10n * 10n ** 6n)];
        const ok1 = await tm0.trade(a, b);
        const bad = await tm0.trade(poor, a, { size: 100_000_000n }); // 1 BTC against 10 USD
        const ok2 = await tm0.trade(b, a, { makerIsBuy: false });
        await bus.appendMany(FILLS, [ok1, bad, ok2]);
        const before = await nextBatch();
        const { tx, settler } = await parts();
        await run(tx, settler, async () => (await results()).length === 3);
        const rs = new Map((await results()).map((r) => [r.tradeId, r]));
        expect(rs.get(bad.tradeId)).to.include({ status: "failed", reason: "AccountMarginCheckFailed" });
        expect(rs.get(ok1.tradeId)!.status).to.equal("settled");
        expect(rs.get(ok2.tradeId)!.status).to.equal("settled");
        expect(await position(poor.address)).to.equal(0n);
        expect(await nextBatch()).to.equal(before + 1n);
      });

      it("killed after submitting, before the receipt: the restarted settler settles the batch once", async () => {
        const [a, b] = [await tm0.trader(), await tm0.trader()];
        const fills = [await tm0.trade(a, b), await tm0.trade(a, b), await tm0.trade(b, a, { makerIsBuy: false })];
        await bus.appendMany(FILLS, fills);
        const gasKey = await chain.fundedKey();
        const before = await nextBatch();
        await chain.setAutomine(false);
        const first = await parts(gasKey);
        expect(await first.settler.step(true)).to.equal("submitted");
        // "crash": the first pair is dropped without any shutdown; a new pair opens the same database
        const second = await parts(gasKey);
        await chain.mine();
        await run(second.tx, second.settler, async () => (await results()).length >= 3, true);
        expect(await nextBatch()).to.equal(before + 1n);
        const rs = await results();
        expect(rs.map((r) => r.tradeId)).to.deep.equal(fills.map((f) => f.tradeId));
        expect(rs.every((r) => r.status === "settled")).to.equal(true);
        expect(await position(a.address)).to.equal(3_000_000n); // bought 0.01 three times, once each
        const intents = await db.query("SELECT key FROM tx_intents");
        expect(intents.rowCount).to.equal(1);
      });
    });
  }
});
