// The settler with several batches in flight (nonces n, n+1, ...): a failure of batch n while n+1 is in
// flight, either because n reverts and takes n+1 with it (its number chains on n) or because another
// submitter took n's number (then n+1 settles), and a crash with several in flight. Each ends with every
// fill final once, in order, and gapless nonces.
import { expect } from "chai";
import { createPublicClient, http, type Address, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { exchangeAbi, mockAggregatorAbi } from "../../sdk/abi";
import { MemoryBus } from "../../keeper/bus";
import type { Db } from "../../keeper/db";
import { Settler, type FillMessage, type SettlementResult } from "../../keeper/settler";
import { FILLS, SETTLEMENT_RESULTS } from "../../keeper/topics";
import { TxManager } from "../../keeper/tx";
import { DEV_KEYS, addressOf, testExchange, type TestChain } from "./chain";
import { TradeMaker } from "./fills";
import { DB_TARGETS, sleep } from "./helpers";

describe("keeper/settler: batches in flight", function () {
  this.timeout(120_000);
  let chain: TestChain;
  let exchange: Address;
  let oracle: Address;
  let tm: TradeMaker;
  let client: PublicClient;

  before(async () => {
    const d = await testExchange();
    chain = d.chain;
    exchange = d.exchange;
    oracle = d.markets[0].oracle;
    tm = new TradeMaker(chain, exchange, d.collateral);
    await tm.init();
    client = createPublicClient({ transport: http(chain.url), cacheTime: 0, pollingInterval: 50 }) as PublicClient;
  });

  const position = (a: Address) =>
    chain.client.readContract({ address: exchange, abi: exchangeAbi, functionName: "positionOf", args: [a, 0] });
  const nextBatch = () =>
    chain.client.readContract({ address: exchange, abi: exchangeAbi, functionName: "nextBatchNumber" });

  /** Market 0's oracle (8-decimal feed), sent with a high tip so it lands first in the next block. */
  async function sendPrice(usd: bigint): Promise<Hex> {
    return chain.deployer.writeContract({
      address: oracle,
      abi: mockAggregatorAbi,
      functionName: "setAnswer",
      args: [usd * 100_000_000n],
      maxPriorityFeePerGas: 50_000_000_000n,
      maxFeePerGas: 200_000_000_000n,
    });
  }

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
        await chain.client.waitForTransactionReceipt({ hash: await sendPrice(60_000n) });
        await bus.close();
        await cleanup();
      });

      async function parts(gasKey: Hex) {
        const tx = new TxManager({ db, client, account: privateKeyToAccount(gasKey), chainId: 31337 });
        await tx.init();
        const settler = new Settler({
          db,
          bus,
          client,
          exchange,
          chainId: 31337,
          operator: privateKeyToAccount(DEV_KEYS[0]),
          tx,
          maxFills: 2,
          maxInFlight: 3,
        });
        return { tx, settler };
      }

      async function run(tx: TxManager, settler: Settler, done: () => Promise<boolean>) {
        for (let i = 0; i < 300; i++) {
          await tx.tick();
          await settler.step(true);
          if (await done()) return;
          await chain.mine();
        }
        throw new Error("settler did not finish");
      }

      const results = async () =>
        (await bus.read<SettlementResult>(SETTLEMENT_RESULTS, "0", { count: 10_000 })).map((e) => e.data);

      /** Sends batches until `n` are in the mempool (automine off), each chained on the one before. */
      async function sendBatches(settler: Settler, n: number) {
        for (let i = 0; i < n; i++) expect(await settler.step(true)).to.equal("submitted");
        expect(await settler.step(true)).to.equal("waiting"); // maxInFlight (3) or the queue is empty
      }

      /** Every fill final once, the settled ones in fill order; the sender's nonces used without a gap. */
      async function expectOnce(fills: FillMessage[], failed: FillMessage[], gasKey: Hex) {
        const rs = await results();
        expect(rs.map((r) => r.tradeId).sort()).to.deep.equal(fills.map((f) => f.tradeId).sort());
        const bad = new Set(failed.map((f) => f.tradeId));
        for (const r of rs) expect(r.status).to.equal(bad.has(r.tradeId) ? "failed" : "settled");
        expect(rs.filter((r) => r.status === "settled").map((r) => r.tradeId)).to.deep.equal(
          fills.filter((f) => !bad.has(f.tradeId)).map((f) => f.tradeId),
        );
        const its = await db.query<{ nonce: string; status: string }>(
          "SELECT nonce, status FROM tx_intents ORDER BY nonce",
        );
        const nonces = its.rows.map((r) => Number(r.nonce));
        expect(nonces).to.deep.equal(nonces.map((_, i) => nonces[0] + i));
        expect(its.rows.every((r) => r.status === "confirmed")).to.equal(true);
        expect(await chain.client.getTransactionCount({ address: addressOf(gasKey) })).to.equal(
          nonces[nonces.length - 1] + 1,
        );
      }

      it("batch n reverts with n+1 in flight: n+1 reverts behind it, both return to the queue and settle once, in order", async () => {
        const [a, b, c] = [await tm.trader(), await tm.trader(), await tm.trader()];
        const poor = await tm.trader(650n * 10n ** 6n); // 0.1 BTC at 60,000 needs 600 initial margin
        const f1 = await tm.trade(a, b);
        const bad = await tm.trade(c, poor, { size: 10_000_000n, makerIsBuy: false }); // poor buys 0.1 BTC
        const f3 = await tm.trade(b, a, { makerIsBuy: false });
        const f4 = await tm.trade(a, b);
        const fills = [f1, bad, f3, f4];
        await bus.appendMany(FILLS, fills);
        const gasKey = await chain.fundedKey();
        const before = await nextBatch();
        await chain.setAutomine(false);
        const { tx, settler } = await parts(gasKey);
        await sendBatches(settler, 2); // n = [f1, bad] (simulated at 60,000), n+1 = [f3, f4]
        // the mark drops to 59,000 in the same block, first: poor's 0.1 BTC no longer has its margin, so n
        // reverts (AccountMarginCheckFailed) and n+1 after it (BatchNumberMismatch)
        await sendPrice(59_000n);
        await sleep(100);
        await chain.mine();
        await run(tx, settler, async () => (await results()).length === 4);
        const reverted = await db.query("SELECT key FROM tx_intents WHERE receipt_status = 'reverted' ORDER BY nonce");
        expect(reverted.rows.map((r) => r.key)).to.deep.equal([`settle:${before}:0`, `settle:${before + 1n}:0`]);
        await expectOnce(fills, [bad], gasKey);
        expect((await results()).find((r) => r.tradeId === bad.tradeId)!.reason).to.equal("AccountMarginCheckFailed");
        expect(await position(a.address)).to.equal(3_000_000n); // bought 0.01 in f1, f3 and f4, once each
        expect(await position(b.address)).to.equal(-3_000_000n);
        expect(await position(poor.address)).to.equal(0n);
        expect(await nextBatch()).to.equal(before + 2n); // [f1] and [f3, f4] rebuilt as n and n+1
      });

      it("batch n's number taken by another submitter with n+1 in flight: n+1 settles, n's fills settle once after it", async () => {
        const [a, b] = [await tm.trader(), await tm.trader()];
        const fills = [await tm.trade(a, b), await tm.trade(a, b), await tm.trade(b, a, { makerIsBuy: false })];
        const other = await tm.trade(a, b);
        await bus.appendMany(FILLS, fills);
        const gasKey = await chain.fundedKey();
        const before = await nextBatch();
        await chain.setAutomine(false);
        const { tx, settler } = await parts(gasKey);
        await sendBatches(settler, 2); // n = fills 0-1, n+1 = fill 2
        const sent = tm.settle([other], { maxPriorityFeePerGas: 50_000_000_000n }); // number n, first in the block
        await sleep(200);
        await chain.mine();
        await sent;
        await run(tx, settler, async () => (await results()).length === 3);
        const rs = await results();
        // fill 2 (batch n+1) settled first; fills 0-1 went back to the queue and settled in batch n+2
        expect(rs.map((r) => [r.tradeId, r.status])).to.deep.equal([
          [fills[2].tradeId, "settled"],
          [fills[0].tradeId, "settled"],
          [fills[1].tradeId, "settled"],
        ]);
        expect(rs.map((r) => r.batch)).to.deep.equal([before + 1n, before + 2n, before + 2n].map(String));
        const its = await db.query<{ key: string; receipt_status: string }>(
          "SELECT key, receipt_status FROM tx_intents ORDER BY nonce",
        );
        expect(its.rows.map((r) => [r.key, r.receipt_status])).to.deep.equal([
          [`settle:${before}:0`, "reverted"],
          [`settle:${before + 1n}:0`, "success"],
          [`settle:${before + 2n}:0`, "success"],
        ]);
        expect(await position(a.address)).to.equal(4_000_000n); // bought 0.01 four times (other's too), once each
        expect(await nextBatch()).to.equal(before + 3n);
      });

      it("killed with three batches in flight: the restarted settler resumes them with the same nonces and settles each fill once", async () => {
        const [a, b] = [await tm.trader(), await tm.trader()];
        const fills: FillMessage[] = [];
        for (let i = 0; i < 6; i++) fills.push(await tm.trade(a, b, { makerIsBuy: i % 2 === 0 }));
        await bus.appendMany(FILLS, fills);
        const gasKey = await chain.fundedKey();
        const before = await nextBatch();
        await chain.setAutomine(false);
        const first = await parts(gasKey);
        await sendBatches(first.settler, 3);
        const sentBefore = await db.query<{ key: string; nonce: string; hash: string }>(
          "SELECT i.key, i.nonce, a.hash FROM tx_intents i JOIN tx_attempts a ON a.intent_id = i.id ORDER BY i.nonce",
        );
        expect(sentBefore.rowCount).to.equal(3);
        // "crash": the first pair is dropped without any shutdown; the node forgets the pending transactions
        // (the restarted tx manager broadcasts them again); a new pair opens the same database
        await chain.rpc("hardhat_dropTransaction", [sentBefore.rows[1].hash]).catch(() => undefined);
        const second = await parts(gasKey);
        await run(second.tx, second.settler, async () => (await results()).length === 6);
        await expectOnce(fills, [], gasKey);
        const after = await db.query<{ key: string; nonce: string; hash: string }>(
          "SELECT i.key, i.nonce, i.mined_hash AS hash FROM tx_intents i ORDER BY i.nonce",
        );
        expect(after.rows).to.deep.equal(sentBefore.rows); // same keys, nonces and transactions
        expect(await nextBatch()).to.equal(before + 3n);
        expect(await position(a.address)).to.equal(0n); // +0.01 -0.01 three times
      });
    });
  }
});
