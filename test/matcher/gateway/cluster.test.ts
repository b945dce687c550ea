// Two gateway instances on one Redis: the first hosts the engine, the second follows it
// (commands over Redis, events over pub/sub). Both show the same streams; rate limits,
// nonces and listenKeys are shared.
import { expect } from "chai";
import WebSocket from "ws";
import { randomBytes } from "node:crypto";
import { Gateway } from "../../../matcher/gateway/gateway";
import { LocalVenue, defaultMarkets, specOf } from "../../../matcher/gateway/venue/local";
import { RemoteVenue } from "../../../matcher/gateway/venue/remote";
import { createLogger } from "../../../matcher/gateway/log";
import { EXCHANGE, MARK, opened, trader, sleep } from "./helpers";

const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("gateway/two instances over Redis", function () {
  this.timeout(30_000);
  let a: Gateway;
  let b: Gateway;
  let venue: LocalVenue;
  let remote: RemoteVenue;
  let urlA: string;
  let urlB: string;
  const prefix = process.env.REDIS_PREFIX;

  before(async () => {
    // isolate this run's keys and channels
    process.env.REDIS_PREFIX = `gwtest:${randomBytes(4).toString("hex")}:`;
    // KEY_PREFIX is read at module load: load fresh copies for this test
    for (const k of Object.keys(require.cache)) if (k.includes("/matcher/gateway/")) delete require.cache[k];
    const G = require("../../../matcher/gateway/gateway") as typeof import("../../../matcher/gateway/gateway");
    const L = require("../../../matcher/gateway/venue/local") as typeof import("../../../matcher/gateway/venue/local");
    const R =
      require("../../../matcher/gateway/venue/remote") as typeof import("../../../matcher/gateway/venue/remote");
    venue = new L.LocalVenue(defaultMarkets());
    venue.process({ type: "mark", ts: Date.now(), market: 1, price: MARK });
    const cfg = { port: 0, redisUrl: REDIS, weightPerMinute: 60, banAfter429: 1000 };
    a = new G.Gateway({ venue, exchange: EXCHANGE, config: { ...cfg, id: "gw-a" }, logger: createLogger("error") });
    urlA = `http://127.0.0.1:${await a.start()}`;
    remote = new R.RemoteVenue(REDIS, "gw-b", defaultMarkets().map(specOf));
    await remote.init();
    b = new G.Gateway({
      venue: remote,
      exchange: EXCHANGE,
      config: { ...cfg, id: "gw-b" },
      logger: createLogger("error"),
    });
    urlB = `http://127.0.0.1:${await b.start()}`;
    void Gateway;
    void LocalVenue;
    void RemoteVenue;
  });

  after(async () => {
    await b?.stop();
    await remote?.close();
    await a?.stop();
    if (prefix === undefined) delete process.env.REDIS_PREFIX;
    else process.env.REDIS_PREFIX = prefix;
    for (const k of Object.keys(require.cache)) if (k.includes("/matcher/gateway/")) delete require.cache[k];
  });

  it("an order sent to either gateway shows up identically on both depth and trade streams", async () => {
    const wa = new WebSocket(urlA.replace("http", "ws") + "/stream?streams=btcusdt@depth/btcusdt@aggTrade");
    const wb = new WebSocket(urlB.replace("http", "ws") + "/stream?streams=btcusdt@depth/btcusdt@aggTrade");
    await Promise.all([opened(wa), opened(wb)]);
    const ga: string[] = [];
    const gb: string[] = [];
    wa.on("message", (d: Buffer) => ga.push(d.toString()));
    wb.on("message", (d: Buffer) => gb.push(d.toString()));
    const m1 = trader({ url: urlA, venue });
    const m2 = trader({ url: urlB, venue });
    const BTC = { symbol: "BTCUSDT", marketId: 1 };
    await m1.placeOrder({ ...BTC, side: "SELL", type: "LIMIT", timeInForce: "GTC", quantity: "0.002", price: "60050" });
    const viaB = await m2.placeOrder({
      ...BTC,
      side: "BUY",
      type: "LIMIT",
      timeInForce: "GTC",
      quantity: "0.003",
      price: "60050",
    });
    expect(viaB).to.include({ status: "PARTIALLY_FILLED", executedQty: "0.002" });
    for (let i = 0; i < 100 && (ga.length < 3 || gb.length < 3); i++) await sleep(20);
    expect(ga.length).to.equal(3);
    expect(gb).to.deep.equal(ga);
    // REST depth agrees on both, at the same lastUpdateId
    const da = (await (await fetch(`${urlA}/fapi/v1/depth?symbol=BTCUSDT&limit=5`)).json()) as Record<string, unknown>;
    const db = (await (await fetch(`${urlB}/fapi/v1/depth?symbol=BTCUSDT&limit=5`)).json()) as Record<string, unknown>;
    expect({ ...db, E: 0, T: 0 }).to.deep.equal({ ...da, E: 0, T: 0 });
    // the follower's user state follows too
    const open = await m2.signed<Record<string, unknown>[]>("GET", "/openOrders");
    expect(open[0]).to.include({ executedQty: "0.002", status: "PARTIALLY_FILLED" });
    wa.close();
    wb.close();
  });

  it("a listenKey made on one gateway streams on the other", async () => {
    const c = trader({ url: urlA, venue });
    const key = await c.listenKey();
    const ws = new WebSocket(urlB.replace("http", "ws") + `/ws/${key}`);
    await opened(ws);
    const got = new Promise<Record<string, unknown>>((res) =>
      ws.on("message", (d: Buffer) => res(JSON.parse(d.toString()))),
    );
    venue.process({ type: "balance", ts: Date.now(), account: c.user, delta: 1_000_000 });
    const m = await got;
    expect(m).to.include({ e: "ACCOUNT_UPDATE" });
    expect((m.a as { m: string }).m).to.equal("DEPOSIT");
    ws.close();
  });
  it("a nonce used on one gateway is refused on the other; weight limits hold across both", async () => {
    // keep the whole check inside one rate-limit minute
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 8000) await sleep(left + 100);
    const c = trader({ url: urlA, venue });
    const q = c.signParams({ symbol: "BTCUSDT" });
    expect((await fetch(`${urlA}/fapi/v3/openOrders?${q}`)).status).to.equal(200);
    const r = await fetch(`${urlB}/fapi/v3/openOrders?${q}`);
    expect(((await r.json()) as { msg: string }).msg).to.equal("Nonce has already been used.");
    // weight 1 pings alternating between the gateways: one counter, shared
    const used: number[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < 80; i++) {
      const r2 = await fetch(`${i % 2 ? urlA : urlB}/fapi/v1/ping`);
      statuses.push(r2.status);
      if (r2.status === 200) used.push(Number(r2.headers.get("x-mbx-used-weight-1m")));
    }
    for (let i = 1; i < used.length; i++) expect(used[i]).to.equal(used[i - 1] + 1);
    expect(used.at(-1)).to.equal(60);
    expect(statuses.slice(used.length)).to.deep.equal(Array(80 - used.length).fill(429));
  });
});
