import { expect } from "chai";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { startStack, trader, MARK, type TestStack, EXCHANGE } from "./helpers";
import { Client, ApiError } from "../../../sdk/client";

async function raw(url: string, method: string, path: string, body?: string, ct = "application/x-www-form-urlencoded") {
  const res = await fetch(url + path, { method, body, headers: body !== undefined ? { "content-type": ct } : {} });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

async function rejects(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an API error");
}

const BTC = { symbol: "BTCUSDT", marketId: 1 };

describe("gateway/REST", () => {
  let s: TestStack;
  before(async () => {
    s = await startStack();
  });
  after(async () => s.stop());

  describe("market data", () => {
    for (const v of ["/fapi/v1", "/fapi/v3"]) {
      it(`${v}/ping, /time and /exchangeInfo`, async () => {
        expect((await raw(s.url, "GET", `${v}/ping`)).json).to.deep.equal({});
        const t = await raw(s.url, "GET", `${v}/time`);
        expect(Math.abs((t.json.serverTime as number) - Date.now())).to.be.lessThan(2000);
        expect(t.headers.get("x-mbx-used-weight-1m")).to.match(/^\d+$/);
        const info = (await raw(s.url, "GET", `${v}/exchangeInfo`)).json as {
          symbols: { symbol: string; filters: { filterType: string; tickSize?: string }[] }[];
          rateLimits: { rateLimitType: string }[];
        };
        expect(info.symbols.map((x) => x.symbol)).to.include("BTCUSDT");
        const btc = info.symbols.find((x) => x.symbol === "BTCUSDT")!;
        expect(btc.filters.find((f) => f.filterType === "PRICE_FILTER")!.tickSize).to.equal("0.1");
        expect(info.rateLimits.map((r) => r.rateLimitType)).to.deep.equal(["REQUEST_WEIGHT", "ORDERS"]);
      });
    }

    it("depth, trades, aggTrades, klines and tickers reflect a trade", async () => {
      const a = trader(s);
      const b = trader(s);
      await a.placeOrder({
        ...BTC,
        side: "SELL",
        type: "LIMIT",
        timeInForce: "GTC",
        quantity: "0.010",
        price: "60000.5",
      });
      await a.placeOrder({
        ...BTC,
        side: "SELL",
        type: "LIMIT",
        timeInForce: "GTC",
        quantity: "0.020",
        price: "60001",
      });
      await b.placeOrder({
        ...BTC,
        side: "BUY",
        type: "LIMIT",
        timeInForce: "GTC",
        quantity: "0.004",
        price: "60000.5",
      });
      const depth = (await raw(s.url, "GET", "/fapi/v1/depth?symbol=BTCUSDT&limit=5")).json as {
        lastUpdateId: number;
        asks: string[][];
      };
      expect(depth.asks[0]).to.deep.equal(["60000.5", "0.006"]);
      expect(depth.asks[1]).to.deep.equal(["60001.0", "0.020"]);
      expect(depth.lastUpdateId).to.equal(s.venue.book(1).lastUpdateId);
      const trades = (await raw(s.url, "GET", "/fapi/v1/trades?symbol=BTCUSDT")).json as unknown as {
        price: string;
        qty: string;
        isBuyerMaker: boolean;
      }[];
      expect(trades.at(-1)).to.include({ price: "60000.5", qty: "0.004", isBuyerMaker: false });
      const agg = (await raw(s.url, "GET", "/fapi/v1/aggTrades?symbol=BTCUSDT&limit=1")).json as unknown as Record<
        string,
        unknown
      >[];
      expect(agg[0]).to.include({ p: "60000.5", q: "0.004", m: false });
      const kl = (await raw(s.url, "GET", "/fapi/v1/klines?symbol=BTCUSDT&interval=1m")).json as unknown as unknown[][];
      expect(kl.at(-1)![4]).to.equal("60000.5");
      const t24 = (await raw(s.url, "GET", "/fapi/v1/ticker/24hr?symbol=BTCUSDT")).json;
      expect(t24).to.include({ symbol: "BTCUSDT", lastPrice: "60000.5" });
      const tp = (await raw(s.url, "GET", "/fapi/v1/ticker/price?symbol=BTCUSDT")).json;
      expect(tp).to.include({ price: "60000.5" });
      const bt = (await raw(s.url, "GET", "/fapi/v1/ticker/bookTicker?symbol=BTCUSDT")).json;
      expect(bt).to.include({ askPrice: "60000.5", askQty: "0.006" });
      const pi = (await raw(s.url, "GET", "/fapi/v1/premiumIndex?symbol=BTCUSDT")).json;
      expect(pi.markPrice).to.equal("60000.000000");
      const all = (await raw(s.url, "GET", "/fapi/v1/premiumIndex")).json as unknown as unknown[];
      expect(all).to.have.length(2);
      expect((await raw(s.url, "GET", "/fapi/v1/fundingRate?symbol=BTCUSDT")).status).to.equal(200);
    });

    it("refuses unknown symbols, bad intervals, bad limits and wrong types with Binance codes", async () => {
      expect((await raw(s.url, "GET", "/fapi/v1/depth?symbol=DOGEUSDT")).json).to.deep.equal({
        code: -1121,
        msg: "Invalid symbol.",
      });
      expect((await raw(s.url, "GET", "/fapi/v1/depth")).json.code).to.equal(-1102);
      expect((await raw(s.url, "GET", "/fapi/v1/depth?symbol=BTCUSDT&limit=7")).json.code).to.equal(-1130);
      expect((await raw(s.url, "GET", "/fapi/v1/depth?symbol=BTCUSDT&limit=abc")).json.code).to.equal(-1102);
      expect((await raw(s.url, "GET", "/fapi/v1/klines?symbol=BTCUSDT&interval=7m")).json.code).to.equal(-1120);
      expect(
        (await raw(s.url, "GET", "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=5&endTime=1")).json.code,
      ).to.equal(-1023);
      expect((await raw(s.url, "GET", "/fapi/v1/depth?symbol=BTCUSDT&symbol=ETHUSDT")).json.code).to.equal(-1101);
      expect((await raw(s.url, "GET", "/fapi/v1/depth?symbol=%E0%A4%A")).json.code).to.equal(-1100);
      const nf = await raw(s.url, "GET", "/fapi/v1/nothing");
      expect(nf.status).to.equal(404);
      expect(nf.json.code).to.equal(-1000);
    });
  });

  describe("trading and auth", () => {
    it("places, queries, lists and cancels an order; the book and user state follow", async () => {
      const c = trader(s);
      const o = await c.placeOrder({
        ...BTC,
        side: "BUY",
        type: "LIMIT",
        timeInForce: "GTC",
        quantity: "0.001",
        price: "59000",
        newClientOrderId: "my-1",
      });
      expect(o).to.include({
        symbol: "BTCUSDT",
        status: "NEW",
        side: "BUY",
        price: "59000.0",
        origQty: "0.001",
        clientOrderId: "my-1",
        type: "LIMIT",
      });
      const q = await c.signed<Record<string, unknown>>("GET", "/order", {
        symbol: "BTCUSDT",
        orderId: o.orderId as number,
      });
      expect(q.status).to.equal("NEW");
      const q2 = await c.signed<Record<string, unknown>>("GET", "/order", {
        symbol: "BTCUSDT",
        origClientOrderId: "my-1",
      });
      expect(q2.orderId).to.equal(o.orderId);
      const open = await c.signed<unknown[]>("GET", "/openOrders", { symbol: "BTCUSDT" });
      expect(open).to.have.length(1);
      expect(s.venue.book(1).bids.find(([p]) => p === 59_000_000_000)).to.deep.equal([59_000_000_000, 100_000]);
      const x = await c.cancelOrder("BTCUSDT", o.orderId as number);
      expect(x.status).to.equal("CANCELED");
      expect(await c.signed<unknown[]>("GET", "/openOrders")).to.have.length(0);
      const all = await c.signed<Record<string, unknown>[]>("GET", "/allOrders", { symbol: "BTCUSDT" });
      expect(all.map((a) => a.status)).to.deep.equal(["CANCELED"]);
      const e = await rejects(c.cancelOrder("BTCUSDT", o.orderId as number));
      expect(e.code).to.equal(-2011);
      const e2 = await rejects(c.signed("GET", "/order", { symbol: "BTCUSDT", orderId: 999999 }));
      expect(e2.code).to.equal(-2013);
    });

    it("stop, take-profit and trailing-stop orders are accepted as conditional orders", async () => {
      const c = trader(s);
      const sm = await c.placeOrder({
        ...BTC,
        side: "SELL",
        type: "STOP_MARKET",
        quantity: "0.001",
        price: "50000",
        stopPrice: "55000",
      });
      expect(sm).to.include({ type: "STOP_MARKET", status: "NEW", stopPrice: "55000.0" });
      const tp = await c.placeOrder({
        ...BTC,
        side: "SELL",
        type: "TAKE_PROFIT",
        timeInForce: "GTC",
        quantity: "0.001",
        price: "65000",
        stopPrice: "64000",
      });
      expect(tp).to.include({ type: "TAKE_PROFIT", status: "NEW" });
      const ts = await c.placeOrder({
        ...BTC,
        side: "SELL",
        type: "TRAILING_STOP_MARKET",
        quantity: "0.001",
        price: "50000",
        callbackRate: "1",
      });
      expect(ts).to.include({ type: "TRAILING_STOP_MARKET", status: "NEW" });
      const e = await rejects(
        c.placeOrder({ ...BTC, side: "SELL", type: "STOP", timeInForce: "GTC", quantity: "0.001", price: "50000" }),
      );
      expect(e.code).to.equal(-1102);
      expect(e.message).to.include("stopPrice");
      const res = await c.signed<Record<string, unknown>>("DELETE", "/allOpenOrders", { symbol: "BTCUSDT" });
      expect(res.code).to.equal(200);
      expect(await c.signed<unknown[]>("GET", "/openOrders")).to.have.length(0);
    });

    it("batch orders return one result per order, errors in place", async () => {
      const c = trader(s);
      const p1 = c.orderParams({
        ...BTC,
        side: "BUY",
        type: "LIMIT",
        timeInForce: "GTC",
        quantity: "0.001",
        price: "58000",
      });
      const p2 = {
        ...c.orderParams({ ...BTC, side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.001", price: "58000" }),
        price: "58000.0000001",
      };
      const out = await c.signed<Record<string, unknown>[]>("POST", "/batchOrders", {
        batchOrders: JSON.stringify([p1, p2]),
      });
      expect(out[0].status).to.equal("NEW");
      expect(out[1].code).to.equal(-1111);
      const e = await rejects(c.signed("POST", "/batchOrders", { batchOrders: "[" }));
      expect(e.code).to.equal(-1130);
    });

    it("countdownCancelAll is accepted and account endpoints answer", async () => {
      const c = trader(s, 5000);
      const r = await c.signed<Record<string, unknown>>("POST", "/countdownCancelAll", {
        symbol: "BTCUSDT",
        countdownTime: 60000,
      });
      expect(r).to.deep.equal({ symbol: "BTCUSDT", countdownTime: "60000" });
      const bal = await c.signed<Record<string, unknown>[]>("GET", "/balance");
      expect(bal[0]).to.include({ asset: "USDT", balance: "5000.000000" });
      const acct = await c.signed<Record<string, unknown>>("GET", "/account");
      expect(acct.totalWalletBalance).to.equal("5000.000000");
      const pr = await c.signed<Record<string, unknown>[]>("GET", "/positionRisk", { symbol: "BTCUSDT" });
      expect(pr[0]).to.include({ symbol: "BTCUSDT", positionAmt: "0.000" });
      expect(await c.signed("POST", "/leverage", { symbol: "BTCUSDT", leverage: 5 })).to.include({ leverage: 5 });
      expect((await rejects(c.signed("POST", "/leverage", { symbol: "BTCUSDT", leverage: 50 }))).code).to.equal(-4028);
      const inc = await c.signed<Record<string, unknown>[]>("GET", "/income");
      expect(inc[0]).to.include({ incomeType: "TRANSFER", income: "5000.000000" });
      expect(await c.signed("GET", "/userTrades", { symbol: "BTCUSDT" })).to.deep.equal([]);
    });

    it("fills show up in userTrades, positionRisk and income", async () => {
      const a = trader(s);
      const b = trader(s);
      const ETH = { symbol: "ETHUSDT", marketId: 2 };
      await a.placeOrder({ ...ETH, side: "SELL", type: "LIMIT", timeInForce: "GTC", quantity: "0.10", price: "3001" });
      const taker = await b.placeOrder({
        ...ETH,
        side: "BUY",
        type: "LIMIT",
        timeInForce: "IOC",
        quantity: "0.10",
        price: "3001",
      });
      expect(taker).to.include({ status: "FILLED", executedQty: "0.10" });
      const ut = await b.signed<Record<string, unknown>[]>("GET", "/userTrades", { symbol: "ETHUSDT" });
      expect(ut[0]).to.include({ buyer: true, maker: false, price: "3001.00", qty: "0.10" });
      const pr = await b.signed<Record<string, unknown>[]>("GET", "/positionRisk", { symbol: "ETHUSDT" });
      expect(pr[0]).to.include({ positionAmt: "0.10", entryPrice: "3001.000000" });
      const pa = await a.signed<Record<string, unknown>[]>("GET", "/positionRisk", { symbol: "ETHUSDT" });
      expect(pa[0].positionAmt).to.equal("-0.10");
      const inc = await b.signed<Record<string, unknown>[]>("GET", "/income", { incomeType: "COMMISSION" });
      expect(inc).to.have.length(1);
      expect(inc[0].income).to.match(/^-0\.\d+$/);
    });

    it("engine rejections map to Binance codes and change nothing", async () => {
      const c = trader(s);
      const before = s.venue.book(1);
      const p1 = c.orderParams({
        ...BTC,
        side: "BUY",
        type: "LIMIT",
        timeInForce: "GTC",
        quantity: "0.001",
        price: "59000",
      });
      const e1 = await rejects(c.signed("POST", "/order", { ...p1, price: "59000.0000001" }));
      expect(e1.code).to.equal(-1111); // precision beyond 6 decimals is refused by the parser
      const e2 = await rejects(
        c.placeOrder({ ...BTC, side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.001", price: "59000.01" }),
      );
      expect(e2.code).to.equal(-4014); // not on the 0.1 tick
      const e3 = await rejects(
        c.placeOrder({ ...BTC, side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.0001", price: "59000" }),
      );
      expect(e3.code).to.equal(-4023);
      const poor = trader(s, 1);
      const e4 = await rejects(
        poor.placeOrder({ ...BTC, side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "1", price: "59000" }),
      );
      expect(e4.code).to.equal(-2019);
      const e5 = await rejects(
        c.placeOrder({ ...BTC, side: "BUY", type: "LIMT", timeInForce: "GTC", quantity: "1", price: "59000" }),
      );
      expect(e5.code).to.equal(-1116);
      const e6 = await rejects(
        c.placeOrder({ ...BTC, side: "UP" as "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "1", price: "59000" }),
      );
      expect(e6.code).to.equal(-1117);
      const e7 = await rejects(
        c.placeOrder({
          ...BTC,
          symbol: "XYZUSDT",
          side: "BUY",
          type: "LIMIT",
          timeInForce: "GTC",
          quantity: "1",
          price: "59000",
        }),
      );
      expect(e7.code).to.equal(-1121);
      expect(s.venue.book(1)).to.deep.equal(before);
    });

    it("refuses bad signatures, foreign signers, stale and replayed nonces", async () => {
      const c = trader(s);
      const body = c.signParams({ symbol: "BTCUSDT" });
      // tamper with one byte of the signed part
      const bad = body.replace("symbol=BTCUSDT", "symbol=ETHUSDT");
      const r1 = await raw(s.url, "GET", `/fapi/v3/openOrders?${bad}`);
      expect(r1.status).to.equal(400);
      expect(r1.json.code).to.equal(-1022);
      const ok = await raw(s.url, "GET", `/fapi/v3/openOrders?${body}`);
      expect(ok.status).to.equal(200);
      const replay = await raw(s.url, "GET", `/fapi/v3/openOrders?${body}`);
      expect(replay.json).to.deep.equal({ code: -1021, msg: "Nonce has already been used." });
      // stale nonce: sign a payload with an old nonce
      const payload = `symbol=BTCUSDT&user=${c.user}&signer=${c.signer.address}&nonce=${(Date.now() - 60_000) * 1000}`;
      const stale = await raw(
        s.url,
        "GET",
        `/fapi/v3/openOrders?${payload}&signature=${c.signer.signMessage(payload)}`,
      );
      expect(stale.json.code).to.equal(-1021);
      // a signer that is not the user nor its agent
      const other = new Client({ baseUrl: s.url, privateKey: generatePrivateKey(), user: c.user, exchange: EXCHANGE });
      const e = await rejects(other.signed("GET", "/openOrders"));
      expect(e.status).to.equal(401);
      expect(e.code).to.equal(-2015);
      // ... until the user authorises it as an agent
      await s.gw.agents.authorise(c.user, other.signer.address);
      expect(await other.signed("GET", "/openOrders")).to.deep.equal([]);
      const o = await other.placeOrder({
        ...BTC,
        side: "BUY",
        type: "LIMIT",
        timeInForce: "GTC",
        quantity: "0.001",
        price: "57000",
      });
      expect(o.status).to.equal("NEW");
      const mine = await c.signed<unknown[]>("GET", "/openOrders");
      expect(mine).to.have.length(1);
      // missing and malformed auth fields
      expect((await raw(s.url, "GET", `/fapi/v3/openOrders?user=${c.user}`)).json.code).to.equal(-1102);
      const short = await raw(s.url, "GET", `/fapi/v3/openOrders?${payload}&signature=0x1234`);
      expect(short.json.code).to.equal(-1022);
      const sigNotLast = await raw(s.url, "GET", `/fapi/v3/openOrders?signature=0x12&${payload}`);
      expect(sigNotLast.json.code).to.equal(-1130);
    });

    it("an order signed for other terms (price, size, account) is refused", async () => {
      const c = trader(s);
      const p = c.orderParams({
        ...BTC,
        side: "BUY",
        type: "LIMIT",
        timeInForce: "GTC",
        quantity: "0.001",
        price: "58000",
      });
      const e = await rejects(c.signed("POST", "/order", { ...p, price: "58100" }));
      expect(e.code).to.equal(-1022);
      const e2 = await rejects(c.signed("POST", "/order", { ...p, quantity: "0.002" }));
      expect(e2.code).to.equal(-1022);
      const other = trader(s);
      const e3 = await rejects(other.signed("POST", "/order", p));
      expect(e3.code).to.equal(-1022);
      const e4 = await rejects(c.signed("POST", "/order", { ...p, expiry: "1" }));
      expect(e4.code).to.equal(-1130);
    });

    it("refuses malformed JSON, oversize bodies and accepts a JSON body signed via the query", async () => {
      const r = await raw(s.url, "POST", "/fapi/v3/order", "{not json", "application/json");
      expect(r.status).to.equal(400);
      expect(r.json.code).to.equal(-1100);
      expect(String(r.json.msg)).to.match(/Malformed JSON/);
      const big = await raw(s.url, "POST", "/fapi/v3/order", "a=" + "x".repeat(70_000));
      expect(big.status).to.equal(413);
      expect(big.json.code).to.equal(-1013);
      const c = trader(s);
      const body = JSON.stringify({
        symbol: "BTCUSDT",
        user: c.user,
        signer: c.signer.address,
        nonce: String(c.nonce()),
      });
      const res = await fetch(`${s.url}/fapi/v3/openOrders?signature=${c.signer.signMessage(body)}`, {
        method: "GET",
      });
      expect(res.status).to.equal(400); // GET carries no body: the JSON form is for POST/PUT/DELETE
      const del = await raw(
        s.url,
        "DELETE",
        `/fapi/v3/allOpenOrders?signature=${c.signer.signMessage(body)}`,
        body,
        "application/json",
      );
      expect(del.status).to.equal(200);
    });

    it("listenKey create / keepalive / close", async () => {
      const c = trader(s);
      const k = await c.listenKey();
      expect(k).to.match(/^[A-Za-z0-9]{32,64}$/);
      expect(await c.listenKey()).to.equal(k);
      expect(await c.signed("PUT", "/listenKey")).to.deep.equal({ listenKey: k });
      expect(await c.signed("DELETE", "/listenKey")).to.deep.equal({});
      expect((await rejects(c.signed("PUT", "/listenKey"))).code).to.equal(-1125);
    });

    it("the signer address of a viem account matches the client's", () => {
      const pk = generatePrivateKey();
      const c = new Client({ baseUrl: s.url, privateKey: pk });
      expect(c.signer.address).to.equal(privateKeyToAccount(pk).address.toLowerCase());
      expect(MARK).to.be.greaterThan(0);
    });
  });
});
