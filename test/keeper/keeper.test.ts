import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { loadConfig } from "../../keeper/config";
import { startKeeper } from "../../keeper/keeper";
import { decryptKeystore, encryptKeystore, loadAccount } from "../../keeper/keys";
import { silentLogger } from "../../keeper/log";
import { KeeperMetrics } from "../../keeper/metrics";
import { RedisBus } from "../../keeper/bus";
import type { SettlementResult } from "../../keeper/settler";
import { CHAIN_EVENTS, FILLS, SETTLEMENT_RESULTS } from "../../keeper/topics";
import { DEV_KEYS, testExchange } from "./chain";
import { TradeMaker } from "./fills";
import { PG_URL, REDIS_URL, uniqueName, until } from "./helpers";
import { dropSchema } from "../../keeper/db";

describe("keeper/keys", () => {
  it("decrypts a V3 keystore it wrote; a wrong password fails without echoing the key", () => {
    const key = generatePrivateKey();
    const json = encryptKeystore(key, "pw", { n: 1024 });
    expect(decryptKeystore(json, "pw")).to.equal(key);
    let msg = "";
    try {
      decryptKeystore(json, "nope");
    } catch (err) {
      msg = String(err);
    }
    expect(msg).to.match(/wrong password/);
    expect(msg).to.not.include(key.slice(2));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kks-"));
    fs.writeFileSync(path.join(dir, "ks.json"), json);
    fs.writeFileSync(path.join(dir, "pw"), "pw\n");
    const acct = loadAccount("gas", { keystoreFile: path.join(dir, "ks.json"), passwordFile: path.join(dir, "pw") });
    expect(acct.address).to.equal(privateKeyToAccount(key).address);
    fs.rmSync(dir, { recursive: true });
  });

  it("decrypts the standard pbkdf2 test vector (Web3 Secret Storage)", () => {
    const v = {
      crypto: {
        cipher: "aes-128-ctr",
        cipherparams: { iv: "6087dab2f9fdbbfaddc31a909735c1e6" },
        ciphertext: "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
        kdf: "pbkdf2",
        kdfparams: {
          c: 262144,
          dklen: 32,
          prf: "hmac-sha256",
          salt: "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd",
        },
        mac: "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2",
      },
      id: "3198bc9c-6672-5ab3-d995-4942343ae5b6",
      version: 3,
    };
    expect(decryptKeystore(JSON.stringify(v), "testpassword")).to.equal(
      "0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d",
    );
  });

  it("refuses a malformed key with a message that does not contain it", () => {
    let msg = "";
    try {
      loadAccount("operator", { privateKey: "0x1234secret" });
    } catch (err) {
      msg = String(err);
    }
    expect(msg).to.match(/operator key/);
    expect(msg).to.not.include("secret");
  });
});

describe("keeper/config", () => {
  it("has documented defaults and rejects bad values", () => {
    const c = loadConfig({ EXCHANGE_ADDRESS: "0x" + "11".repeat(20) });
    expect(c.rpcUrl).to.equal("http://127.0.0.1:8545");
    expect(c.batchMaxFills).to.equal(400);
    expect(c.txFeeBumpPct).to.equal(12.5);
    expect(c.databaseUrl).to.equal(undefined);
    expect(() => loadConfig({ EXCHANGE_ADDRESS: "0x" + "11".repeat(20), TX_FEE_BUMP_PCT: "5" })).to.throw(
      /at least 10/,
    );
    expect(() => loadConfig({ EXCHANGE_ADDRESS: "0x" + "11".repeat(20), BATCH_MAX_FILLS: "x" })).to.throw(
      /BATCH_MAX_FILLS/,
    );
  });
});

describe("keeper wired (Postgres, Redis, Hardhat): fill in, settled out, chain events and metrics", () => {
  it("settles fills appended to the stream, the listener records them, results reach the user-stream topic", async () => {
    const d = await testExchange();
    const chain = d.chain;
    const tmk = new TradeMaker(chain, d.exchange, d.collateral);
    await tmk.init();
    const schema = uniqueName("keeper");
    const prefix = `${uniqueName("kp")}:`;
    const cfg = loadConfig({
      RPC_URL: chain.url,
      EXCHANGE_ADDRESS: d.exchange,
      LISTENER_FROM_BLOCK: String(await chain.client.getBlockNumber()),
      DATABASE_URL: PG_URL,
      DB_SCHEMA: schema,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      OPERATOR_PRIVATE_KEY: DEV_KEYS[0],
      GAS_PRIVATE_KEY: await chain.fundedKey(),
      BATCH_MAX_FILLS: "10",
      BATCH_MAX_WAIT_MS: "100",
      TX_POLL_MS: "50",
      LISTENER_POLL_MS: "50",
      LISTENER_REORG_WINDOW: "2",
    });
    const metrics = new KeeperMetrics(false);
    const keeper = await startKeeper(cfg, { log: silentLogger, metrics });
    const producer = new RedisBus({ url: REDIS_URL, prefix, name: uniqueName("prod") });
    try {
      const [a, b] = [await tmk.trader(), await tmk.trader()];
      const fills = [await tmk.trade(a, b), await tmk.trade(b, a, { makerIsBuy: false }), await tmk.trade(a, b)];
      const pushed: SettlementResult[] = [];
      await producer.subscribe(SETTLEMENT_RESULTS, (m) => pushed.push(m as SettlementResult));
      await producer.appendMany(FILLS, fills);
      await until(() => pushed.length === 3, 30_000);
      expect(pushed.map((r) => [r.tradeId, r.status])).to.deep.equal(fills.map((f) => [f.tradeId, "settled"]));
      // the listener saw the same fills on chain
      await until(async () => (await keeper.db.query("SELECT 1 FROM ev_fills")).rowCount === 3, 30_000);
      // the outbox publishes after the commit (whichever of the listener and the settler drains it)
      const fillEvents = async () =>
        (await producer.read<{ name?: string }>(CHAIN_EVENTS, "0", { count: 1000 }))
          .map((e) => e.data.name)
          .filter((n) => n === "FillSettled");
      await until(async () => (await fillEvents()).length >= 3, 5_000).catch(() => undefined);
      expect(await fillEvents()).to.have.length(3);
      const pos = await keeper.db.query<{ account: string; size: string }>(
        "SELECT account, size FROM positions WHERE market = 0",
      );
      const bySql = new Map(pos.rows.map((r) => [r.account, r.size]));
      expect(bySql.get(a.address.toLowerCase())).to.equal("3000000"); // a bought 0.01 in each of the three
      expect(bySql.get(b.address.toLowerCase())).to.equal("-3000000");
      const text = await metrics.registry.metrics();
      for (const name of [
        "keeper_settlement_lag_seconds_count 3",
        "keeper_batch_gas_count",
        "keeper_settlement_queue_depth",
        "keeper_listener_lag_blocks",
        "keeper_reorgs_total 0",
      ])
        expect(text).to.include(name);
    } finally {
      await keeper.stop();
      await producer.deleteAll();
      await producer.close();
      await dropSchema(PG_URL, schema);
    }
  });
});
