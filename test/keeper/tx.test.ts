import { expect } from "chai";
import { spawn } from "node:child_process";
import path from "node:path";
import { createPublicClient, http, toHex, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { Db } from "../../keeper/db";
import { TxManager, type TxManagerOptions } from "../../keeper/tx/manager";
import { CuttableProxy, addressOf, testChain, type TestChain } from "./chain";
import { DB_TARGETS, PG_URL, sleep } from "./helpers";

const SINK = "0x000000000000000000000000000000000000dEaD";

function manager(chain: TestChain, db: Db, key: Hex, extra: Partial<TxManagerOptions> = {}, url = chain.url) {
  const client = createPublicClient({
    transport: http(url, { retryCount: 0, timeout: 2_000 }),
    cacheTime: 0,
  }) as PublicClient;
  return new TxManager({ db, client, account: privateKeyToAccount(key), chainId: 31337, ...extra });
}

/** Ticks until `fn` holds, mining a block between ticks when asked. */
async function drive(tm: TxManager, chain: TestChain, fn: () => Promise<boolean>, mine = false, max = 200) {
  for (let i = 0; i < max; i++) {
    await tm.tick().catch(() => {});
    if (await fn()) return;
    if (mine) await chain.mine();
    await sleep(20);
  }
  throw new Error("drive: condition not reached");
}

async function senderTxs(
  chain: TestChain,
  from: string,
  fromBlock: bigint,
): Promise<{ hash: Hex; nonce: number; input: Hex }[]> {
  const head = await chain.client.getBlockNumber();
  const out: { hash: Hex; nonce: number; input: Hex }[] = [];
  for (let b = fromBlock; b <= head; b++) {
    const blk = await chain.client.getBlock({ blockNumber: b, includeTransactions: true });
    for (const t of blk.transactions)
      if (t.from.toLowerCase() === from.toLowerCase()) out.push({ hash: t.hash, nonce: t.nonce, input: t.input });
  }
  return out;
}

for (const target of DB_TARGETS) {
  describe(`keeper/tx manager on ${target.name}`, function () {
    let chain: TestChain;
    let db: Db;
    let cleanup: () => Promise<void>;

    before(async () => {
      chain = await testChain();
    });
    beforeEach(async () => ({ db, cleanup } = await target.open()));
    afterEach(async () => {
      await chain.setAutomine(true);
      await cleanup();
    });

    it("sends, waits for the configured confirmations and reports the receipt", async () => {
      const key = await chain.fundedKey();
      const tm = manager(chain, db, key, { confirmations: 3 });
      await tm.init();
      await chain.setAutomine(false);
      const it = await tm.submit({ key: "c1", to: SINK, data: "0x01" });
      expect(it.nonce).to.equal(0n);
      const done = tm.wait("c1");
      await chain.mine(); // included: 1 confirmation
      await tm.tick();
      expect((await tm.byKey("c1"))!.status).to.equal("mined");
      await chain.mine(); // 2
      await tm.tick();
      expect((await tm.byKey("c1"))!.status).to.equal("mined");
      await chain.mine(); // 3
      await tm.tick();
      const o = await done;
      expect(o.status).to.equal("success");
      expect(o.nonce).to.equal(0n);
      expect(o.attempts).to.equal(1);
      expect(o.gasUsed > 21_000n).to.equal(true);
    });

    it("is idempotent by key: the same payload is never sent under a second nonce", async () => {
      const key = await chain.fundedKey();
      const tm = manager(chain, db, key);
      await tm.init();
      const a = await tm.submit({ key: "k", to: SINK, data: "0xabcd" });
      const b = await tm.submit({ key: "k", to: SINK, data: "0xabcd" });
      expect(b.nonce).to.equal(a.nonce);
      let refused = "";
      try {
        await tm.submit({ key: "k", to: SINK, data: "0xabce" });
      } catch (err) {
        refused = String(err);
      }
      expect(refused).to.match(/different payload/);
      await drive(tm, chain, async () => (await tm.byKey("k"))!.status === "confirmed");
      expect(await chain.client.getTransactionCount({ address: addressOf(key) })).to.equal(1);
    });

    it("base-fee spike with automine off: the transaction is replaced with a fee bump, not duplicated", async () => {
      const key = await chain.fundedKey();
      const tm = manager(chain, db, key, { replaceAfterBlocks: 2, confirmations: 1 });
      await tm.init();
      const start = await chain.client.getBlockNumber();
      await chain.setAutomine(false);
      const it = await tm.submit({ key: "spike", to: SINK, data: "0x5b1e", gas: 60_000n });
      const first = (await tm.attempts("spike"))[0];
      // the next block's base fee far above what the first attempt offers
      await chain.rpc("hardhat_setNextBlockBaseFeePerGas", [toHex(first.maxFeePerGas * 50n)]);
      await chain.mine();
      await tm.tick();
      expect((await tm.byKey("spike"))!.status).to.equal("pending");
      await chain.mine();
      await tm.tick(); // 2 blocks since the broadcast: replaced
      const atts = await tm.attempts("spike");
      expect(atts.length).to.equal(2);
      expect(atts[1].maxFeePerGas >= (atts[0].maxFeePerGas * 110n) / 100n).to.equal(true);
      expect(atts[1].maxPriorityFeePerGas >= (atts[0].maxPriorityFeePerGas * 110n) / 100n).to.equal(true);
      const done = tm.wait("spike");
      await chain.mine();
      await tm.tick();
      const o = await done;
      expect(o.hash).to.equal(atts[1].hash);
      expect(o.nonce).to.equal(it.nonce);
      const txs = await senderTxs(chain, addressOf(key), start + 1n);
      expect(txs.map((t) => t.hash)).to.deep.equal([atts[1].hash]);
      expect(await chain.client.getTransactionCount({ address: addressOf(key) })).to.equal(1);
    });

    it("RPC dropping mid-batch: every payload lands once, nonces contiguous, no gap", async () => {
      const key = await chain.fundedKey();
      const proxy = new CuttableProxy(chain.port);
      await proxy.start();
      let recorded = 0;
      const tm = manager(
        chain,
        db,
        key,
        {
          hooks: {
            afterRecord: async () => {
              if (++recorded === 5) {
                await proxy.cut(); // the 5th is recorded; its broadcast and everything after fail
                setTimeout(() => void proxy.restore(), 700);
              }
            },
          },
        },
        proxy.url,
      );
      try {
        await tm.init();
        const start = await chain.client.getBlockNumber();
        let failures = 0;
        for (let i = 0; i < 10; i++) {
          for (;;) {
            try {
              await tm.submit({ key: `b${i}`, to: SINK, data: toHex(1000 + i, { size: 2 }), gas: 60_000n });
              break;
            } catch {
              failures++;
              await sleep(100);
            }
          }
        }
        expect(failures).to.be.greaterThan(0);
        await drive(tm, chain, async () => (await tm.openIntents()).length === 0);
        const txs = await senderTxs(chain, addressOf(key), start + 1n);
        expect(txs.map((t) => t.nonce)).to.deep.equal([...Array(10).keys()]);
        expect(txs.map((t) => t.input)).to.deep.equal([...Array(10).keys()].map((i) => toHex(1000 + i, { size: 2 })));
        for (let i = 0; i < 10; i++) expect((await tm.byKey(`b${i}`))!.nonce).to.equal(BigInt(i));
      } finally {
        await proxy.stop();
      }
    });
  });
}

describe("keeper/tx manager: killed mid-flight (child process, real Postgres)", function () {
  let chain: TestChain;
  before(async () => {
    chain = await testChain();
  });
  afterEach(async () => chain.setAutomine(true));

  for (const killAt of ["afterSend", "afterRecord"] as const) {
    it(`resumes with the same nonce and payload after SIGKILL ${killAt === "afterSend" ? "after sending, before the receipt" : "after recording, before sending"}`, async () => {
      const { db, schema, cleanup } = await DB_TARGETS[0].open();
      try {
        const key = await chain.fundedKey();
        await chain.setAutomine(false);
        const start = await chain.client.getBlockNumber();
        const code = await new Promise<number | null>((resolve) => {
          const p = spawn(
            path.join(__dirname, "../../node_modules/.bin/tsx"),
            [path.join(__dirname, "fixtures/txChild.ts")],
            {
              env: {
                ...process.env,
                DB_URL: PG_URL,
                DB_SCHEMA: schema,
                RPC_URL: chain.url,
                KEY: key,
                TO: SINK,
                DATA: "0xc0ffee",
                TX_KEY: "crash",
                KILL_AT: killAt,
              },
              stdio: "ignore",
            },
          );
          p.on("exit", (c, sig) => resolve(sig === "SIGKILL" ? null : c));
        });
        expect(code === null || code === 137).to.equal(true); // killed (tsx reports the SIGKILL as 137), not exited
        const tm = manager(chain, db, key);
        const recordedAttempts = await tm.attempts("crash");
        expect(recordedAttempts).to.have.length(1);
        // the node has it only when the child got as far as sending
        const pending = await chain.client.getTransactionCount({ address: addressOf(key), blockTag: "pending" });
        expect(pending).to.equal(killAt === "afterSend" ? 1 : 0);
        await tm.init(); // re-broadcasts the recorded raw transaction
        await tm.submit({ key: "after", to: SINK, data: "0x02", gas: 60_000n });
        await chain.mine();
        await drive(tm, chain, async () => (await tm.openIntents()).length === 0, true);
        const crash = await tm.byKey("crash");
        expect(crash!.nonce).to.equal(0n);
        expect(crash!.minedHash).to.equal(recordedAttempts[0].hash);
        expect((await tm.byKey("after"))!.nonce).to.equal(1n);
        const txs = await senderTxs(chain, addressOf(key), start + 1n);
        expect(txs.map((t) => [t.nonce, t.input])).to.deep.equal([
          [0, "0xc0ffee"],
          [1, "0x02"],
        ]);
      } finally {
        await cleanup();
      }
    });
  }
});
