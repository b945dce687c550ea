// The whole loop against the real Redis and Postgres of this machine and a Hardhat node on a free
// port: deploy, start matcher + gateway + bridge + keeper in this process (as `npm start` does), a
// maker and a taker order signed with sdk/ go through REST, match, settle on chain, the user stream
// reports TRADE_SETTLEMENT SETTLED, and positions off-chain (positionRisk) equal Exchange.positionOf.
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { createPublicClient, createWalletClient, http, type PublicClient } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { toHex } from "viem";
import { deployExchange, deploymentJson } from "../../scripts/lib/deployExchange";
import { waitForRpc } from "../../scripts/lib/processes";
import { startMatcher, type Matcher } from "../../matcher/main";
import { Client } from "../../sdk/client";
import { exchangeAbi } from "../../sdk/abi";
import { RedisBus } from "../../keeper/bus";

const REDIS_URL = process.env.E2E_REDIS_URL ?? "redis://127.0.0.1:6379";
const DATABASE_URL = process.env.E2E_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const MNEMONIC = "test test test test test test test test test test test junk";
const key = (i: number) => toHex(mnemonicToAccount(MNEMONIC, { addressIndex: i }).getHdKey().privateKey!);
const root = path.resolve(__dirname, "..", "..");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on("error", reject);
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("e2e: order -> match -> settle -> user stream -> positions", function () {
  this.timeout(120_000);
  const run = `e2e${Date.now().toString(36)}${process.pid}`;
  let node: ChildProcess;
  let matcher: Matcher;
  let client: PublicClient;
  let tmp: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const port = await freePort();
    const rpcUrl = `http://127.0.0.1:${port}`;
    node = spawn(path.join(root, "node_modules", ".bin", "hardhat"), ["node", "--port", String(port)], {
      cwd: root,
      stdio: "ignore",
    });
    await waitForRpc(rpcUrl, 60_000);
    client = createPublicClient({ chain: hardhat, transport: http(rpcUrl) }) as PublicClient;
    const walletClient = createWalletClient({
      chain: hardhat,
      account: mnemonicToAccount(MNEMONIC, { addressIndex: 0 }),
      transport: http(rpcUrl),
    });
    const d = await deployExchange({
      publicClient: client,
      walletClient,
      fund: [1, 2].map((i) => mnemonicToAccount(MNEMONIC, { addressIndex: i }).address),
    });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "perpx-e2e-"));
    const file = path.join(tmp, "e2e.json");
    fs.writeFileSync(file, JSON.stringify({ network: "e2e", ...deploymentJson(d) }));
    env = {
      ...process.env,
      RPC_URL: rpcUrl,
      DEPLOYMENT_FILE: file,
      REDIS_URL,
      REDIS_PREFIX: `${run}:`,
      DATABASE_URL,
      DB_SCHEMA: run,
      JOURNAL_NAME: run,
      PORT: "0",
      METRICS_PORT: "0",
      RECOVER_WORKERS: "0",
      OPERATOR_PRIVATE_KEY: key(0),
      GAS_PRIVATE_KEY: key(9),
      BATCH_MAX_WAIT_MS: "200",
      MARK_INTERVAL_MS: "1000",
      LOG_LEVEL: "warn",
    };
    matcher = await startMatcher(env, { withKeeper: true });
  });

  after(async () => {
    await matcher?.stop().catch(() => {});
    node?.kill("SIGTERM");
    const bus = new RedisBus({ url: REDIS_URL, prefix: `${run}:` });
    await bus.deleteAll().catch(() => {});
    await bus.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("settles a REST trade on chain and reports it on the user stream; positions agree", async () => {
    const base = `http://127.0.0.1:${matcher.port}`;
    const d = matcher.deployment;
    const exchange = { chainId: d.chainId, address: d.exchange };
    const maker = new Client({ baseUrl: base, privateKey: key(1), exchange });
    const taker = new Client({ baseUrl: base, privateKey: key(2), exchange });

    // balances arrive from the chain (listener -> matcher.commands -> bridge -> engine)
    await until("deposits in the engine", async () => {
      const b = await maker.signed<{ asset: string; balance: string }[]>("GET", "/balance");
      return b.some((x) => Number(x.balance) > 0) ? true : undefined;
    });
    await until("taker deposit", async () => {
      const b = await taker.signed<{ asset: string; balance: string }[]>("GET", "/balance");
      return b.some((x) => Number(x.balance) > 0) ? true : undefined;
    });
    const mark = await until("mark price", async () => {
      const r = await maker.public<{ markPrice: string }>("/premiumIndex", { symbol: "BTCUSD" });
      return Number(r.markPrice) > 0 ? r.markPrice : undefined;
    });

    const events: Record<string, unknown>[] = [];
    const ws = new WebSocket(`${base.replace("http", "ws")}/ws/${await maker.listenKey()}`);
    ws.on("message", (b) => events.push(JSON.parse(b.toString()) as Record<string, unknown>));
    await new Promise((r) => ws.once("open", r));

    const price = String(Math.round(Number(mark)));
    await maker.placeOrder({
      symbol: "BTCUSD",
      marketId: 0,
      side: "SELL",
      type: "LIMIT",
      timeInForce: "GTC",
      price,
      quantity: "0.01",
    });
    const r = await taker.placeOrder({
      symbol: "BTCUSD",
      marketId: 0,
      side: "BUY",
      type: "LIMIT",
      timeInForce: "IOC",
      price,
      quantity: "0.01",
    });
    expect(r.status).to.equal("FILLED");

    const settled = await until("TRADE_SETTLEMENT", async () => events.find((e) => e.e === "TRADE_SETTLEMENT"));
    ws.close();
    expect(settled.X).to.equal("SETTLED");
    expect(matcher.bridge.stats.fillsAppended).to.equal(1);

    for (const [c, want] of [
      [maker, -1_000_000n],
      [taker, 1_000_000n],
    ] as const) {
      const onChain = await client.readContract({
        address: d.exchange,
        abi: exchangeAbi,
        functionName: "positionOf",
        args: [c.user, 0],
      });
      expect(onChain).to.equal(want);
      const pr = await c.signed<{ symbol: string; positionAmt: string }[]>("GET", "/positionRisk", {
        symbol: "BTCUSD",
      });
      const off = pr.find((p) => p.symbol === "BTCUSD");
      expect(BigInt(Math.round(Number(off?.positionAmt ?? "0") * 1e8))).to.equal(onChain);
    }
  });

  it("klines come from the settled trades in the store, and a restarted matcher still serves them", async () => {
    const base = () => `http://127.0.0.1:${matcher.port}`;
    const klines = async () =>
      (await (await fetch(`${base()}/fapi/v1/klines?symbol=BTCUSD&interval=1m&limit=10`)).json()) as unknown[][];
    // the listener indexed the settled fill: one trade of 0.01 in a 1m candle
    const rows = await until("a 1m kline of the settled trade", async () => {
      const k = await klines();
      return k.length > 0 ? k : undefined;
    });
    expect(rows.reduce((n, r) => n + (r[8] as number), 0)).to.equal(1);
    expect(rows.at(-1)![5]).to.equal("0.0100");
    const stored = await matcher.keeper!.db.query<{ n: string }>("SELECT count(*) AS n FROM candles");
    expect(Number(stored.rows[0].n)).to.equal(6); // 1m, 5m, 15m, 1h, 4h, 1d
    await matcher.stop();
    matcher = await startMatcher(env, { withKeeper: true });
    expect(await klines()).to.deep.equal(rows);
  });
});
