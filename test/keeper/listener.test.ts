import { expect } from "chai";
import { createPublicClient, custom, maxUint256, type Address, type Hex, type PublicClient } from "viem";
import { exchangeAbi, mockUSDAbi } from "../../sdk/abi";
import { MemoryBus, type Bus } from "../../keeper/bus";
import type { Db } from "../../keeper/db";
import { Listener } from "../../keeper/listener";
import { CHAIN_EVENTS, MATCHER_COMMANDS } from "../../keeper/topics";
import { DEV_KEYS, addressOf, testExchange, type TestChain } from "./chain";
import { DB_TARGETS } from "./helpers";

const ALICE = addressOf(DEV_KEYS[1]);
const BOB = addressOf(DEV_KEYS[2]);

describe("keeper/listener", function () {
  let chain: TestChain;
  let exchange: Address;
  let collateral: Address;

  before(async () => {
    const d = await testExchange();
    chain = d.chain;
    exchange = d.exchange;
    collateral = d.collateral;
    const w = chain.deployer;
    const wait = async (h: Hex) => chain.client.waitForTransactionReceipt({ hash: h });
    await wait(
      await w.writeContract({
        address: collateral,
        abi: mockUSDAbi,
        functionName: "mint",
        args: [w.account.address, 10n ** 18n],
      }),
    );
    await wait(
      await w.writeContract({
        address: collateral,
        abi: mockUSDAbi,
        functionName: "approve",
        args: [exchange, maxUint256],
      }),
    );
  });

  /** One deposit per block (automine). */
  async function deposit(account: Address, amount: bigint): Promise<void> {
    const h = await chain.deployer.writeContract({
      address: exchange,
      abi: exchangeAbi,
      functionName: "depositFor",
      args: [account, amount],
    });
    await chain.client.waitForTransactionReceipt({ hash: h });
  }

  async function chainDeposits(from: bigint): Promise<string[]> {
    const logs = await chain.client.getContractEvents({
      address: exchange,
      abi: exchangeAbi,
      eventName: "Deposit",
      fromBlock: from,
      toBlock: "latest",
    });
    return logs.map((l) => `${l.blockNumber}:${l.logIndex}:${l.blockHash}:${l.args.amount}`);
  }

  async function dbDeposits(db: Db): Promise<string[]> {
    const r = await db.query<{ block_number: string; log_index: number; block_hash: string; amount: string }>(
      "SELECT block_number, log_index, block_hash, amount FROM ev_deposits ORDER BY block_number, log_index",
    );
    return r.rows.map((x) => `${x.block_number}:${x.log_index}:${x.block_hash}:${x.amount}`);
  }

  async function streamAll(bus: Bus, stream: string): Promise<Record<string, unknown>[]> {
    return (await bus.read<Record<string, unknown>>(stream, "0", { count: 100_000 })).map((e) => e.data);
  }

  for (const target of DB_TARGETS) {
    describe(`on ${target.name}`, () => {
      let db: Db;
      let bus: MemoryBus;
      let cleanup: () => Promise<void>;
      let fromBlock: bigint;

      beforeEach(async () => {
        ({ db, cleanup } = await target.open());
        bus = new MemoryBus();
        fromBlock = (await chain.client.getBlockNumber()) + 1n;
      });
      afterEach(async () => {
        await bus.close();
        await cleanup();
      });

      const listener = (extra: Partial<ConstructorParameters<typeof Listener>[0]> = {}) =>
        new Listener({ db, bus, client: chain.client, exchange, fromBlock, reorgWindow: 4, ...extra });

      it("follows blocks, stores and publishes each event once; the same block twice is a no-op", async () => {
        await deposit(ALICE, 1_000_000n);
        await deposit(BOB, 2_000_000n);
        const l = listener();
        await l.catchUp();
        expect(await dbDeposits(db)).to.deep.equal(await chainDeposits(fromBlock));
        const evs = await streamAll(bus, CHAIN_EVENTS);
        expect(evs.map((e) => e.name)).to.deep.equal(["Deposit", "Deposit"]);
        const cmds = await streamAll(bus, MATCHER_COMMANDS);
        expect(cmds.map((c) => [c.type, c.account, c.delta])).to.deep.equal([
          ["balance", ALICE.toLowerCase(), 1_000_000],
          ["balance", BOB.toLowerCase(), 2_000_000],
        ]);
        // replay the last block by hand
        const cp = await l.checkpoint();
        const blk = await chain.client.getBlock({ blockNumber: cp.number });
        const raw = await chain.client.getLogs({ address: exchange, blockHash: blk.hash! });
        expect(raw.length).to.equal(1);
        expect(await l.commitBlock(blk.number!, blk.hash!, blk.parentHash, raw)).to.equal(0);
        expect(await dbDeposits(db)).to.have.length(2);
        expect(await bus.length(CHAIN_EVENTS)).to.equal(2);
        expect((await db.query("SELECT count(*)::int AS n FROM outbox")).rows[0]).to.deep.equal({ n: 0 });
      });

      it("a reorg three blocks deep: rolls back to the common ancestor, publishes corrections, follows the new branch", async () => {
        await deposit(ALICE, 5n);
        const l = listener();
        await l.catchUp();
        const snap = await chain.rpc<Hex>("evm_snapshot");
        const ancestor = await chain.client.getBlockNumber();
        await deposit(ALICE, 11n);
        await deposit(BOB, 12n);
        await deposit(ALICE, 13n);
        await l.catchUp();
        expect((await dbDeposits(db)).map((x) => x.split(":")[3])).to.deep.equal(["5", "11", "12", "13"]);
        await chain.rpc("evm_revert", [snap]);
        await chain.mine(); // an empty block, so the new branch differs from the first block on
        await deposit(BOB, 21n);
        await deposit(ALICE, 22n);
        await deposit(BOB, 23n);
        const first = await l.step();
        expect(first.reorg).to.deep.equal({ depth: 3, ancestor });
        await l.catchUp();
        expect(await dbDeposits(db)).to.deep.equal(await chainDeposits(fromBlock));
        expect((await dbDeposits(db)).map((x) => x.split(":")[3])).to.deep.equal(["5", "21", "22", "23"]);
        const reorgs = await db.query<{ depth: number }>("SELECT depth FROM listener_reorgs");
        expect(reorgs.rows.map((r) => r.depth)).to.deep.equal([3]);
        const evs = await streamAll(bus, CHAIN_EVENTS);
        const corr = evs.find((e) => e.type === "reorg") as { ancestor: string; removed: { name: string }[] };
        expect(corr.ancestor).to.equal(ancestor.toString());
        expect(corr.removed.map((r) => r.name)).to.deep.equal(["Deposit", "Deposit", "Deposit"]);
        // the matcher's balances net out to what the chain says
        const net = new Map<string, number>();
        for (const c of await streamAll(bus, MATCHER_COMMANDS))
          net.set(c.account as string, (net.get(c.account as string) ?? 0) + (c.delta as number));
        expect(net.get(ALICE.toLowerCase())).to.equal(5 + 22);
        expect(net.get(BOB.toLowerCase())).to.equal(21 + 23);
      });

      it("down for 50 blocks: backfills with ranges that adapt to the provider's limit; no gap, no duplicate", async () => {
        await deposit(ALICE, 1n);
        const calls: bigint[] = [];
        let refused = 0;
        // a provider that refuses getLogs ranges wider than 7 blocks
        const limited = createPublicClient({
          cacheTime: 0,
          transport: custom({
            async request({ method, params }) {
              if (method === "eth_getLogs") {
                const p = (params as { fromBlock?: Hex; toBlock?: Hex }[])[0];
                if (p.fromBlock && p.toBlock) {
                  const span = BigInt(p.toBlock) - BigInt(p.fromBlock) + 1n;
                  calls.push(span);
                  if (span > 7n) {
                    refused++;
                    throw new Error("query exceeds max block range 7");
                  }
                }
              }
              return chain.client.request({ method: method as never, params: params as never });
            },
          }),
        }) as PublicClient;
        const a = listener({ client: limited, initialRange: 32, maxRange: 64 });
        await a.catchUp();
        const before = await a.checkpoint();
        // 50 blocks while it is down: deposits in some, empty blocks between
        for (let i = 0; i < 10; i++) {
          await deposit(i % 2 ? ALICE : BOB, BigInt(100 + i));
          await chain.mine(4);
        }
        expect((await chain.client.getBlockNumber()) - before.number).to.equal(50n);
        const b = listener({ client: limited, initialRange: 32, maxRange: 64 });
        await b.catchUp();
        expect(refused).to.be.greaterThan(0);
        expect(calls.some((s) => s <= 7n)).to.equal(true);
        expect(await dbDeposits(db)).to.deep.equal(await chainDeposits(fromBlock));
        const evs = (await streamAll(bus, CHAIN_EVENTS)).filter((e) => e.name === "Deposit");
        const ids = evs.map((e) => `${e.blockHash}:${e.logIndex}`);
        expect(new Set(ids).size).to.equal(ids.length);
        expect(ids.length).to.equal(11);
        expect((await b.checkpoint()).number).to.equal(await chain.client.getBlockNumber());
      });
    });
  }
});
