import { expect } from "chai";
import WebSocket from "ws";
import { startStack, trader, nextMessage, opened, closed, sleep, type TestStack } from "./helpers";
import { LocalBook, type DepthDiff } from "../../../sdk/client";

const BTC = { symbol: "BTCUSDT", marketId: 1 };

describe("gateway/WebSocket", () => {
  let s: TestStack;
  before(async () => {
    s = await startStack({ wsMaxStreams: 5, listenKeyTtlMs: 1500 });
  });
  after(async () => s.stop());
  const wsUrl = (p: string) => s.url.replace("http", "ws") + p;

  it("/ws/<stream> sends raw events, /stream?streams= combined envelopes; every event has e and E", async () => {
    const raw = new WebSocket(wsUrl("/ws/btcusdt@depth"));
    const comb = new WebSocket(wsUrl("/stream?streams=btcusdt@aggTrade/btcusdt@depth"));
    await Promise.all([opened(raw), opened(comb)]);
    const a = trader(s);
    const b = trader(s);
    const gotRaw = nextMessage(raw);
    const gotTrade = nextMessage(comb, (m) => m.stream === "btcusdt@aggTrade");
    await a.placeOrder({ ...BTC, side: "SELL", type: "LIMIT", timeInForce: "GTC", quantity: "0.002", price: "60010" });
    const d = await gotRaw;
    expect(d).to.include({ e: "depthUpdate", s: "BTCUSDT" });
    expect(d.E).to.be.a("number");
    expect(d.a).to.deep.include(["60010.0", "0.002"]);
    expect(d.pu).to.equal((d.U as number) - 1);
    await b.placeOrder({ ...BTC, side: "BUY", type: "LIMIT", timeInForce: "IOC", quantity: "0.001", price: "60010" });
    const t = (await gotTrade) as { stream: string; data: Record<string, unknown> };
    expect(t.data).to.include({ e: "aggTrade", s: "BTCUSDT", p: "60010.0", q: "0.001", m: false });
    expect(t.data.E).to.be.a("number");
    raw.close();
    comb.close();
  });

  it("SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS with ids, errors for bad requests", async () => {
    const ws = new WebSocket(wsUrl("/ws"));
    await opened(ws);
    const ask = (m: unknown) => {
      const p = nextMessage(ws, (x) => "id" in x);
      ws.send(typeof m === "string" ? m : JSON.stringify(m));
      return p;
    };
    expect(await ask({ method: "SUBSCRIBE", params: ["btcusdt@bookTicker", "ethusdt@kline_1m"], id: 1 })).to.deep.equal(
      { result: null, id: 1 },
    );
    expect(await ask({ method: "LIST_SUBSCRIPTIONS", id: 2 })).to.deep.equal({
      result: ["btcusdt@bookTicker", "ethusdt@kline_1m"],
      id: 2,
    });
    expect(await ask({ method: "UNSUBSCRIBE", params: ["ethusdt@kline_1m"], id: "x" })).to.deep.equal({
      result: null,
      id: "x",
    });
    expect(await ask({ method: "LIST_SUBSCRIPTIONS", id: 3 })).to.deep.equal({ result: ["btcusdt@bookTicker"], id: 3 });
    expect((await ask({ method: "SUBSCRIBE", params: ["dogeusdt@depth"], id: 4 })).code).to.equal(2);
    expect((await ask({ method: "SUBSCRIBE", params: ["btcusdt@nonsense"], id: 5 })).code).to.equal(2);
    expect((await ask({ method: "FLY", id: 6 })).code).to.equal(2);
    expect((await ask("{oops")).code).to.equal(3);
    expect((await ask({ method: "LIST_SUBSCRIPTIONS", id: 1.5 })).code).to.equal(1);
    await sleep(1100);
    const many = ["@depth", "@aggTrade", "@ticker", "@markPrice", "@depth5", "@depth10"].map((x) => "btcusdt" + x);
    const cap = await ask({ method: "SUBSCRIBE", params: many, id: 7 });
    expect(cap.code).to.equal(2);
    expect(String(cap.msg)).to.match(/too many streams/);
    expect(await ask({ method: "SET_PROPERTY", params: ["combined", true], id: 8 })).to.deep.equal({
      result: null,
      id: 8,
    });
    expect(await ask({ method: "GET_PROPERTY", params: ["combined"], id: 9 })).to.deep.equal({ result: true, id: 9 });
    ws.close();
  });

  it("cuts connections that send too many messages, or ask for too many streams in the URL", async () => {
    const ws = new WebSocket(wsUrl("/ws"));
    await opened(ws);
    const c = closed(ws);
    for (let i = 0; i < 15; i++) ws.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: i }));
    const r = await c;
    expect(r.code).to.equal(1008);
    expect(r.reason).to.match(/too many messages/);
    const six = ["a", "b", "c", "d", "e", "f"].map(() => "btcusdt@depth").map((x, i) => (i ? x + i : x));
    const ws2 = new WebSocket(wsUrl(`/stream?streams=${six.join("/")}`));
    const r2 = await closed(ws2);
    expect(r2.code).to.equal(1008);
    expect(r2.reason).to.match(/too many streams/);
    const ws3 = new WebSocket(wsUrl("/ws/btcusdt@bogus"));
    expect((await closed(ws3)).reason).to.match(/invalid stream/);
  });

  it("user stream: ORDER_TRADE_UPDATE and ACCOUNT_UPDATE on /ws/<listenKey>, then listenKeyExpired", async () => {
    const a = trader(s);
    const b = trader(s);
    const key = await a.listenKey();
    const ws = new WebSocket(wsUrl(`/ws/${key}`));
    await opened(ws);
    const upd = nextMessage(ws, (m) => m.e === "ORDER_TRADE_UPDATE");
    const ETH = { symbol: "ETHUSDT", marketId: 2 };
    const o = await a.placeOrder({
      ...ETH,
      side: "SELL",
      type: "LIMIT",
      timeInForce: "GTC",
      quantity: "0.03",
      price: "3002",
      newClientOrderId: "u1",
    });
    const u = (await upd) as { o: Record<string, unknown>; E: number };
    expect(u.o).to.include({ s: "ETHUSDT", c: "u1", S: "SELL", x: "NEW", X: "NEW", i: o.orderId, q: "0.03" });
    expect(u.E).to.be.a("number");
    const fill = nextMessage(ws, (m) => m.e === "ORDER_TRADE_UPDATE" && (m.o as Record<string, unknown>).x === "TRADE");
    const acct = nextMessage(ws, (m) => m.e === "ACCOUNT_UPDATE");
    await b.placeOrder({ ...ETH, side: "BUY", type: "LIMIT", timeInForce: "IOC", quantity: "0.03", price: "3002" });
    const f = (await fill) as { o: Record<string, unknown> };
    expect(f.o).to.include({ X: "FILLED", l: "0.03", L: "3002.00", m: true });
    const au = (await acct) as { a: { m: string; B: Record<string, string>[]; P: Record<string, string>[] } };
    expect(au.a.m).to.equal("ORDER");
    expect(au.a.P[0]).to.include({ s: "ETHUSDT", pa: "-0.03" });
    // not kept alive: expires (TTL 1.5 s in this stack)
    const exp = await nextMessage(ws, (m) => m.e === "listenKeyExpired", 5000);
    expect(exp.listenKey).to.equal(key);
    const bad = new WebSocket(wsUrl(`/ws/${key}`));
    expect((await closed(bad)).reason).to.match(/invalid stream/);
    ws.close();
  });

  it("partial depth, bookTicker, ticker and markPrice streams deliver their payloads", async () => {
    const ws = new WebSocket(
      wsUrl("/stream?streams=btcusdt@depth5@100ms/btcusdt@bookTicker/btcusdt@ticker/btcusdt@markPrice@1s"),
    );
    await opened(ws);
    const a = trader(s);
    const bt = nextMessage(ws, (m) => m.stream === "btcusdt@bookTicker");
    await a.placeOrder({ ...BTC, side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "0.001", price: "59990" });
    const d5 = (await nextMessage(ws, (m) => m.stream === "btcusdt@depth5@100ms")) as { data: Record<string, unknown> };
    expect(d5.data.e).to.equal("depthUpdate");
    expect((d5.data.b as unknown[]).length).to.be.at.most(5);
    expect(((await bt) as { data: Record<string, unknown> }).data).to.include({ e: "bookTicker", s: "BTCUSDT" });
    const tk = (await nextMessage(ws, (m) => m.stream === "btcusdt@ticker", 3000)) as { data: Record<string, unknown> };
    expect(tk.data.e).to.equal("24hrTicker");
    const mp = (await nextMessage(ws, (m) => m.stream === "btcusdt@markPrice@1s", 3000)) as {
      data: Record<string, unknown>;
    };
    expect(mp.data).to.include({ e: "markPriceUpdate", s: "BTCUSDT", p: "60000.000000" });
    ws.close();
  });
});

describe("gateway/WebSocket limits", () => {
  it("pings, closes a client that never answers, and closes at the lifetime limit", async () => {
    const s = await startStack({ wsPingIntervalMs: 100, wsPongTimeoutMs: 400, wsMaxLifetimeMs: 1500 });
    try {
      const url = s.url.replace("http", "ws");
      const mute = new WebSocket(`${url}/ws/btcusdt@depth`, { autoPong: false });
      let pings = 0;
      mute.on("ping", () => pings++);
      const good = new WebSocket(`${url}/ws/btcusdt@depth`);
      const r1 = await closed(mute);
      expect(pings).to.be.greaterThan(0);
      expect(r1.reason).to.match(/no pong/);
      const r2 = await closed(good);
      expect(r2.code).to.equal(1000);
      expect(r2.reason).to.match(/lifetime/);
    } finally {
      await s.stop();
    }
  });

  it("cuts a slow consumer with a reason instead of buffering without bound", async () => {
    const s = await startStack({ wsMaxBufferedBytes: 64 * 1024 });
    try {
      const ws = new WebSocket(s.url.replace("http", "ws") + "/ws/btcusdt@depth");
      await opened(ws);
      // stop reading: the server's send buffer fills
      (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      const c = closed(ws);
      const acct = "0x" + "11".repeat(20);
      s.venue.process({ type: "balance", ts: Date.now(), account: acct, delta: 1e15 });
      for (let i = 0; i < 60_000 && s.gw.hub.stats.slowCut === 0; i++) {
        s.venue.process({
          type: "place",
          ts: Date.now(),
          account: acct,
          market: 1,
          side: "BUY",
          orderType: "LIMIT",
          tif: "GTC",
          price: 50_000_000_000 + i * 100_000,
          qty: 100_000,
        });
        if (i % 500 === 0) await sleep(2);
      }
      expect(s.gw.hub.stats.slowCut).to.equal(1);
      (ws as unknown as { _socket: { resume(): void } })._socket.resume();
      const r = await c;
      expect(r.code).to.equal(1008);
      expect(r.reason).to.match(/slow consumer/);
    } finally {
      await s.stop();
    }
  });
});

describe("gateway/local book from snapshot + diffs", () => {
  it("follows 10k random orders and cancels to exactly the engine's book; a dropped message is detected", async () => {
    const s = await startStack();
    try {
      const url = s.url.replace("http", "ws") + "/ws/btcusdt@depth";
      const ws = new WebSocket(url);
      const dropper = new WebSocket(url);
      await Promise.all([opened(ws), opened(dropper)]);
      const book = new LocalBook();
      const lossy = new LocalBook();
      let n = 0;
      ws.on("message", (d: Buffer) => book.onDiff(JSON.parse(d.toString()) as DepthDiff));
      dropper.on("message", (d: Buffer) => {
        if (++n === 6000) return; // lose one message (after the snapshot below)
        lossy.onDiff(JSON.parse(d.toString()) as DepthDiff);
      });
      let seed = 12345;
      const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
      const accts = Array.from({ length: 8 }, (_, i) => "0x" + (i + 1).toString(16).padStart(40, "0"));
      for (const a of accts) s.venue.process({ type: "balance", ts: Date.now(), account: a, delta: 1e15 });
      const live: number[] = [];
      for (let i = 0; i < 10_000; i++) {
        if (i === 3000) {
          // the REST snapshot is taken mid-stream, while diffs are buffered
          const snap = await fetch(`${s.url}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`).then(
            (r) => r.json() as Promise<Parameters<LocalBook["loadSnapshot"]>[0]>,
          );
          book.loadSnapshot(snap);
          lossy.loadSnapshot(snap);
        }
        if (live.length > 0 && rnd() < 0.4) {
          const k = Math.floor(rnd() * live.length);
          const id = live[k];
          live[k] = live[live.length - 1];
          live.pop();
          const o = s.venue.engine.order(id);
          if (o) s.venue.process({ type: "cancel", ts: Date.now(), account: o.account, market: 1, orderId: id });
        } else {
          const side = rnd() < 0.5 ? "BUY" : "SELL";
          const ticks = Math.floor(rnd() * 200) - 100 + (side === "BUY" ? -20 : 20);
          const ack = s.venue.process({
            type: "place",
            ts: Date.now(),
            account: accts[Math.floor(rnd() * accts.length)],
            market: 1,
            side,
            orderType: "LIMIT",
            tif: "GTC",
            price: 60_000_000_000 + ticks * 100_000,
            qty: (1 + Math.floor(rnd() * 20)) * 100_000,
            stp: "NONE",
          });
          if (ack.ok) live.push(ack.orderId);
        }
        if (i % 500 === 0) await sleep(1);
      }
      const last = s.venue.book(1).lastUpdateId;
      for (let t = 0; t < 100 && book.lastUpdateId < last; t++) await sleep(20);
      expect(book.gap).to.equal(false);
      expect(book.lastUpdateId).to.equal(last);
      const eng = s.venue.book(1);
      const fmtP = (p: number) => (p / 1e6).toFixed(1);
      const fmtQ = (q: number) => (q / 1e8).toFixed(3);
      const local = book.sorted();
      expect(local.bids).to.deep.equal(eng.bids.map(([p, q]) => [fmtP(p), fmtQ(q)]));
      expect(local.asks).to.deep.equal(eng.asks.map(([p, q]) => [fmtP(p), fmtQ(q)]));
      expect(eng.bids.length + eng.asks.length).to.be.greaterThan(50);
      expect(lossy.gap).to.equal(true);
      ws.close();
      dropper.close();
    } finally {
      await s.stop();
    }
  });
});
