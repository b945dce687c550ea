import { expect } from "chai";
import fc from "fast-check";
import { H, btc, px, lots, USD, LocalBook, accountMarkets, expectCachedHealthExact } from "./helpers";
import { Engine, type DepthEvent, type OrderUpdateEvent, type TradeEvent, type Command } from "../../matcher";
import { crashWorkload, CRASH_MARKETS } from "./fixtures/crash-workload";
import { restoreSnapshot, takeSnapshot } from "../../matcher/journal/snapshot";

describe("matcher engine: book and matching", () => {
  it("matches by price then time, and reports maker/taker, fees and cash moves", () => {
    const h = new H();
    const a = h.limit("A", "SELL", 60_001, 1).orderId;
    const c = h.limit("C", "SELL", 60_001, 1).orderId;
    const better = h.limit("A", "SELL", 60_000.5, 1).orderId;
    h.limit("B", "BUY", 60_001, 2);
    const trades = h.lastOfKind("trade");
    expect(trades.map((t) => t.makerOrderId)).to.deep.equal([better, a]);
    expect(trades[0].price).to.equal(px(60_000.5));
    expect(h.e.order(c)?.remaining ?? h.e.order(c)?.qty).to.equal(lots(1));
    // 0.001 BTC at 60000.5 = 60.0005 USD
    expect(trades[0].buyerPays).to.equal(60_000_500);
    expect(trades[0].takerFee).to.equal(30_001); // ceil(60_000_500 * 500 / 1e6)
    expect(trades[0].makerFee).to.equal(12_001);
    const bCash = h.e.accountView("B")!.cash;
    expect(bCash).to.equal(1e6 * USD - 60_000_500 - 30_001 - 60_001_000 - 30_001);
    expect(h.e.accountView("B")!.positions.get(1)).to.equal(lots(2));
  });

  it("cancels in O(1) by id and publishes the level change", () => {
    const h = new H();
    const id = h.limit("A", "BUY", 59_990, 3).orderId;
    h.limit("C", "BUY", 59_990, 2);
    expect(h.cancel("A", id).ok).to.equal(true);
    expect(h.depth().bids).to.deep.equal([[px(59_990), lots(2)]]);
    const d = h.lastOfKind("depth")[0];
    expect(d.bids).to.deep.equal([[px(59_990), lots(2)]]);
    expect(h.cancel("A", id).reason).to.equal("ORDER_NOT_FOUND");
    expect(h.cancel("B", id + 1).reason).to.equal("ORDER_NOT_FOUND"); // not B's order
  });

  it("gives exactly one ack per input, rejected ones included", () => {
    const h = new H();
    const n = h.acks.length;
    h.run({ type: "place", ts: 1, market: 9, account: "A", side: "BUY", orderType: "LIMIT", qty: 1 });
    h.run({ type: "nonsense", ts: 1 } as unknown as Command);
    h.limit("A", "BUY", 60_000, 1);
    expect(h.acks.length).to.equal(n + 3);
    expect(h.acks.slice(n).map((a) => a.reason)).to.deep.equal(["UNKNOWN_MARKET", "INVALID_COMMAND", "OK"]);
  });

  it("FOK is accepted exactly when the book, walked in price-time order with its STP mode, fills it (random books)", () => {
    const stps = ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"] as const;
    const order = fc.record({
      who: fc.constantFrom("A", "B", "C"),
      sell: fc.boolean(),
      off: fc.integer({ min: 0, max: 6 }),
      n: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(
      fc.property(
        fc.array(order, { maxLength: 40 }),
        fc.constantFrom("A", "B", "C"),
        fc.boolean(),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom(...stps),
        (book, who, buy, through, n, stp) => {
          const h = new H();
          // asks at 60,001-60,007 and bids at 59,993-59,999: the book never crosses
          for (const o of book) h.limit(o.who, o.sell ? "SELL" : "BUY", o.sell ? 60_001 + o.off : 59_999 - o.off, o.n);
          const limit = buy ? 60_000 + through : 60_000 - through;
          // the rule, from the public views: the other side in price-time order (ids are time order in a level)
          const resting = ["A", "B", "C"].flatMap((a) =>
            h.e.openOrders(a).filter((v) => v.side === (buy ? "SELL" : "BUY")),
          );
          resting.sort((x, y) => (buy ? x.price - y.price : y.price - x.price) || x.orderId - y.orderId);
          let got = 0;
          for (const v of resting) {
            if (buy ? v.price > px(limit) : v.price < px(limit)) break;
            if (v.account === who && stp !== "NONE") {
              if (stp === "EXPIRE_MAKER") continue;
              break;
            }
            got += v.qty - v.filledQty;
          }
          const ack = h.limit(who, buy ? "BUY" : "SELL", limit, n, { tif: "FOK", stp });
          expect(ack.reason).to.equal(got >= lots(n) ? "OK" : "FOK_NOT_FILLABLE");
          if (ack.ok) {
            const last = h.lastOfKind("order").filter((u) => u.orderId === ack.orderId);
            expect(last[last.length - 1].status).to.equal("FILLED");
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("FOK never fills in part when reduce-only makers would be clipped on the way (random books with positions)", () => {
    const order = fc.record({
      who: fc.constantFrom("A", "B", "C"),
      off: fc.integer({ min: 0, max: 4 }),
      n: fc.integer({ min: 1, max: 4 }),
      ro: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 3, maxLength: 3 }),
        fc.array(order, { maxLength: 30 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 6 }),
        (longs, book, n, through) => {
          const h = new H([btc()], Object.fromEntries(["A", "B", "C", "D", "E"].map((a) => [a, 1e6 * USD])));
          // A, B and C go long (bought from D), so they may rest reduce-only sells; several of them
          // together (and their plain sells) may exceed the position: matching clips them
          ["A", "B", "C"].forEach((a, i) => {
            if (longs[i] === 0) return;
            h.limit("D", "SELL", 60_000, longs[i]);
            h.limit(a, "BUY", 60_000, longs[i]);
          });
          for (const o of book) h.limit(o.who, "SELL", 60_001 + o.off, o.n, o.ro ? { reduceOnly: true } : {});
          const ack = h.limit("E", "BUY", 60_001 + through, n, { tif: "FOK" });
          const ups = h.lastOfKind("order").filter((u) => u.orderId === ack.orderId);
          if (ack.ok) expect(ups[ups.length - 1].status, "a FOK accepted fills whole").to.equal("FILLED");
          else expect(ack.reason).to.equal("FOK_NOT_FILLABLE");
          // and it was rejected only when it could not have filled: the same order as a plain IOC fills less
          if (!ack.ok) {
            const ioc = h.limit("E", "BUY", 60_001 + through, n, { tif: "IOC" });
            const last = h.lastOfKind("order").filter((u) => u.orderId === ioc.orderId);
            expect(last[last.length - 1].filledQty).to.be.lessThan(lots(n));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("FOK never fills in part when its sweep would trip the circuit breaker (random books and windows)", () => {
    const order = fc.record({
      who: fc.constantFrom("A", "B"),
      off: fc.integer({ min: 0, max: 60 }),
      n: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(
      fc.property(
        fc.array(order, { maxLength: 30 }),
        fc.option(fc.integer({ min: -30, max: 30 }), { nil: undefined }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 70 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1_500 }),
        (book, earlier, n, through, buy, later) => {
          // halts when the trade prices within 1 s span more than 0.05% (30 USD at 60,000)
          const cfg = btc({ circuitBreaker: { movePpm: 500, windowMs: 1_000, haltMs: 60_000 } });
          const h = new H([cfg]);
          if (earlier !== undefined) {
            // a trade in the window already
            h.limit("A", "SELL", 60_000 + earlier, 1);
            h.limit("B", "BUY", 60_000 + earlier, 1);
          }
          for (const o of book) h.limit(o.who, buy ? "SELL" : "BUY", buy ? 60_001 + o.off : 59_999 - o.off, o.n);
          h.ts += later; // the earlier trade may have left the window
          if (h.e.marketState(1).status !== "TRADING") return;
          const ack = h.limit("C", buy ? "BUY" : "SELL", buy ? 60_001 + through : 59_999 - through, n, { tif: "FOK" });
          const ups = h.lastOfKind("order").filter((u) => u.orderId === ack.orderId);
          if (ack.ok) expect(ups[ups.length - 1].status, "a FOK accepted fills whole").to.equal("FILLED");
          else {
            expect(ack.reason).to.equal("FOK_NOT_FILLABLE");
            // rejected only when it could not have filled: the same order as an IOC fills less
            const ioc = h.limit("C", buy ? "BUY" : "SELL", buy ? 60_001 + through : 59_999 - through, n, {
              tif: "IOC",
            });
            const last = h.lastOfKind("order").filter((u) => u.orderId === ioc.orderId);
            expect(last[last.length - 1].filledQty).to.be.lessThan(lots(n));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("countdowns fire at the first command at or after their deadline; renewed and cleared ones never (random renewals)", () => {
    const step = fc.record({
      kind: fc.integer({ min: 0, max: 3 }),
      who: fc.constantFrom("A", "B", "C"),
      market: fc.constantFrom(undefined, 1, 2),
      timeout: fc.integer({ min: 0, max: 30 }),
      dt: fc.integer({ min: 0, max: 12 }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 250, size: "max" }), (steps) => {
        const h = new H([btc(), btc({ id: 2, symbol: "ETHUSD" })]);
        const model = new Map<string, { account: string; market: number | undefined; deadline: number }>();
        const keyOf = (a: string, market: number | undefined) => `${a}|${market === undefined ? -1 : market - 1}`;
        for (const s of steps) {
          h.ts += s.dt;
          // due before the command runs: their accounts' open orders (in their market, or all) are cancelled
          const expected: number[] = [];
          for (const [k, c] of [...model]) {
            if (c.deadline > h.ts) continue;
            model.delete(k);
            for (const v of h.e.openOrders(c.account, c.market)) expected.push(v.orderId);
          }
          if (s.kind <= 1) {
            h.run({ type: "countdown", ts: h.ts, account: s.who, market: s.market, timeoutMs: s.timeout });
            const k = keyOf(s.who, s.market);
            if (s.timeout === 0) model.delete(k);
            else model.set(k, { account: s.who, market: s.market, deadline: h.ts + s.timeout });
          } else if (s.kind === 2) h.limit(s.who, "BUY", 59_000 + s.timeout, 1, { market: s.market ?? 1 });
          else h.run({ type: "tick", ts: h.ts });
          const cancelled = (h.last.filter((e) => e.kind === "order") as OrderUpdateEvent[])
            .filter((u) => u.reason === "COUNTDOWN")
            .map((u) => u.orderId);
          // (an order under two due countdowns, its market's and the all-markets one, is cancelled once)
          expect(cancelled.sort((a, b) => a - b)).to.deep.equal([...new Set(expected)].sort((a, b) => a - b));
          expect(new Map([...h.e.countdowns].map(([k, c]) => [k, c.deadline]))).to.deep.equal(
            new Map([...model].map(([k, c]) => [k, c.deadline])),
          );
        }
      }),
      { numRuns: 150 },
    );
  });

  it("5,000 bots renewing their countdowns just before the deadline cost what 50 do (no pass over all of them)", () => {
    // each renews every N ms with a timeout of N + 1 ms: the earliest deadline is always 1 ms away
    const renewals = (bots: number, n: number): number => {
      const e = new Engine({ markets: [btc()] });
      let ts = 1;
      for (let i = 0; i < bots; i++)
        e.process({ type: "countdown", ts: ts++, account: `bot${i}`, timeoutMs: bots + 1 });
      const t = performance.now();
      for (let k = 0; k < n; k++)
        e.process({ type: "countdown", ts: ts++, account: `bot${k % bots}`, timeoutMs: bots + 1 });
      expect(e.countdowns.size).to.equal(bots); // none fired
      return performance.now() - t;
    };
    renewals(50, 20_000); // JIT
    renewals(5_000, 20_000);
    let few = 0;
    let many = 0;
    for (let r = 0; r < 3; r++) {
      few += renewals(50, 20_000);
      many += renewals(5_000, 20_000);
    }
    // a pass over every countdown made this ratio ~250
    expect(many / few).to.be.lessThan(5);
  });

  it("IOC expires its remainder, FOK and post-only are rejected when they cannot", () => {
    const h = new H();
    h.limit("A", "SELL", 60_001, 2);
    const ioc = h.limit("B", "BUY", 60_001, 5, { tif: "IOC" });
    expect(ioc.ok).to.equal(true);
    const ups = h.lastOfKind("order");
    expect(ups[ups.length - 1].status).to.equal("EXPIRED");
    expect(ups[ups.length - 1].filledQty).to.equal(lots(2));
    h.limit("A", "SELL", 60_002, 2);
    expect(h.limit("B", "BUY", 60_002, 3, { tif: "FOK" }).reason).to.equal("FOK_NOT_FILLABLE");
    expect(h.limit("B", "BUY", 60_002, 2, { tif: "GTX" }).reason).to.equal("POST_ONLY_WOULD_TAKE");
    expect(h.limit("B", "BUY", 60_001.9, 2, { tif: "GTX" }).ok).to.equal(true);
    const fok = h.limit("B", "BUY", 60_002, 2, { tif: "FOK" });
    expect(fok.ok).to.equal(true);
    expect(h.lastOfKind("trade").length).to.equal(1);
  });

  it("market orders are IOC capped by the slippage band around the mark", () => {
    const h = new H();
    h.limit("A", "SELL", 60_100, 1);
    h.limit("A", "SELL", 63_500, 1); // beyond 5% slippage cap (63000)
    h.place({ account: "B", side: "BUY", orderType: "MARKET", qty: lots(2) });
    const t = h.lastOfKind("trade");
    expect(t.length).to.equal(1);
    const last = h.lastOfKind("order").pop()!;
    expect(last.status).to.equal("EXPIRED");
    expect(last.price).to.equal(px(63_000));
  });

  it("market orders never cross their signed limit price (the contract would skip such a fill)", () => {
    const h = new H();
    h.limit("A", "SELL", 60_100, 1);
    h.limit("A", "SELL", 60_200, 1);
    h.place({ account: "B", side: "BUY", orderType: "MARKET", qty: lots(2), limitPrice: px(60_150) });
    expect(h.lastOfKind("trade").map((t) => t.price)).to.deep.equal([px(60_100)]);
    expect(h.lastOfKind("order").pop()!.status).to.equal("EXPIRED");
    h.limit("A", "BUY", 59_900, 1);
    h.limit("A", "BUY", 59_800, 1);
    h.place({ account: "C", side: "SELL", orderType: "MARKET", qty: lots(2), limitPrice: px(59_850) });
    expect(h.lastOfKind("trade").map((t) => t.price)).to.deep.equal([px(59_900)]);
    // A signed limit looser than the slippage cap leaves the cap in force.
    h.place({ account: "B", side: "BUY", orderType: "MARKET", qty: lots(1), limitPrice: px(90_000) });
    expect(h.lastOfKind("order").pop()!.price).to.equal(px(63_000));
    expect(h.place({ account: "B", side: "BUY", orderType: "MARKET", qty: lots(1), limitPrice: -1 }).reason).to.equal(
      "INVALID_PRICE",
    );
  });

  it("a triggered stop-market keeps its signed limit price", () => {
    const h = new H();
    const stop = h.place({
      account: "A",
      side: "BUY",
      orderType: "STOP_MARKET",
      qty: lots(2),
      stopPrice: px(60_010),
      limitPrice: px(60_015),
    }).orderId;
    const placed = h.lastOfKind("order");
    h.limit("B", "SELL", 60_010, 1);
    h.limit("B", "SELL", 60_020, 2);
    h.limit("C", "BUY", 60_010, 1); // last = 60010 -> the stop fires; 60020 is above its limit
    // its events carry its stop price, before and after it fires (others' carry 0)
    const ups = [...placed, ...h.lastOfKind("order")];
    expect(ups.filter((u) => u.orderId === stop).map((u) => u.stopPrice))
      .to.have.length.above(1)
      .and.satisfy((ps: number[]) => ps.every((p) => p === px(60_010)));
    expect(ups.filter((u) => u.orderId !== stop).map((u) => u.stopPrice)).to.satisfy((ps: number[]) =>
      ps.every((p) => p === 0),
    );
    expect(h.lastOfKind("trade").filter((t) => t.takerOrderId === stop)).to.deep.equal([]);
    expect(h.e.order(stop)).to.equal(undefined);
  });

  it("self-trade prevention: the taker's mode decides", () => {
    for (const [mode, takerStatus, makerGone, trades] of [
      ["EXPIRE_TAKER", "EXPIRED_IN_MATCH", false, 0],
      ["EXPIRE_MAKER", "FILLED", true, 1],
      ["EXPIRE_BOTH", "EXPIRED_IN_MATCH", true, 0],
      ["NONE", "FILLED", true, 1],
    ] as const) {
      const h = new H();
      const own = h.limit("A", "SELL", 60_000, 1, { stp: "EXPIRE_TAKER" }).orderId;
      h.limit("C", "SELL", 60_000, 1);
      h.limit("A", "BUY", 60_000, 1, { stp: mode });
      const ups = h.lastOfKind("order");
      const taker = ups.filter((u) => u.account === "A" && u.side === "BUY").pop()!;
      expect(taker.status, mode).to.equal(takerStatus);
      expect(h.e.order(own) === undefined, mode).to.equal(makerGone);
      expect(h.lastOfKind("trade").length, mode).to.equal(trades);
      if (mode === "EXPIRE_MAKER") expect(h.lastOfKind("trade")[0].makerAccount).to.equal("C");
    }
  });

  it("pre-trade checks: tick, lot, min notional, max size, band, open-order limit", () => {
    const h = new H([btc({ maxOpenOrders: 2, maxOrderQty: lots(100) })]);
    const r = (p: Parameters<H["place"]>[0]) => h.place(p).reason;
    expect(r({ account: "A", side: "BUY", price: px(60_000) + 1 })).to.equal("PRICE_NOT_ON_TICK");
    expect(r({ account: "A", side: "BUY", price: px(60_000), qty: lots(1) + 1 })).to.equal("QTY_NOT_ON_LOT");
    expect(r({ account: "A", side: "BUY", price: px(60_000), qty: 0 })).to.equal("INVALID_QTY");
    expect(r({ account: "A", side: "BUY", price: px(60_000), qty: lots(101) })).to.equal("QTY_TOO_LARGE");
    expect(r({ account: "A", side: "BUY", price: px(4_000), qty: lots(1) })).to.equal("PRICE_OUT_OF_BAND");
    expect(r({ account: "A", side: "SELL", price: px(66_000.1), qty: lots(1) })).to.equal("PRICE_OUT_OF_BAND");
    expect(r({ account: "A", side: "BUY", price: px(54_000), qty: lots(1) })).to.equal("OK");
    const h2 = new H([btc({ minNotional: 100 * USD, maxOpenOrders: 2 })]);
    expect(h2.limit("A", "BUY", 60_000, 1).reason).to.equal("NOTIONAL_TOO_SMALL");
    expect(h2.limit("A", "BUY", 60_000, 2).reason).to.equal("OK");
    expect(h2.limit("A", "BUY", 60_000, 2).reason).to.equal("OK");
    expect(h2.limit("A", "BUY", 60_000, 2).reason).to.equal("TOO_MANY_OPEN_ORDERS");
    expect(h2.limit("Z", "BUY", 60_000, 2).reason).to.equal("INSUFFICIENT_MARGIN");
  });

  it("margin: open orders count against collateral, exactly at the boundary", () => {
    // 10% imf: 1 lot (0.001 BTC) at 60000 needs 6 USD initial margin when bought at the mark
    const h = new H([btc({ minNotional: 0 })], { A: 12 * USD, B: 1e6 * USD });
    expect(h.limit("A", "BUY", 60_000, 2).ok).to.equal(true); // 12 USD exactly
    expect(h.limit("A", "BUY", 60_000, 1).reason).to.equal("INSUFFICIENT_MARGIN");
    // a buy above the mark also costs its premium: 60000.1 -> 0.0001 USD premium + 6.00001 margin
    expect(h.limit("A", "SELL", 60_000.1, 1).ok).to.equal(true); // sells: worst case is the sell side alone
    expect(h.e.freeCollateral("A")).to.equal(0);
    // a sell that does not worsen the worst case is fine even at zero free collateral
    h.limit("B", "SELL", 60_000, 2); // A's buys fill: A long 2 lots
    expect(h.e.accountView("A")!.positions.get(1)).to.equal(lots(2));
    expect(h.limit("A", "SELL", 60_000, 1).ok).to.equal(true);
    // withdrawal reserves margin
    expect(h.run({ type: "withdraw", ts: h.ts, account: "A", amount: USD, withdrawalId: "w1" }).reason).to.equal(
      "INSUFFICIENT_BALANCE",
    );
    h.run({ type: "balance", ts: h.ts, account: "A", delta: 10 * USD });
    const free = h.e.freeCollateral("A");
    expect(h.run({ type: "withdraw", ts: h.ts, account: "A", amount: free + 1, withdrawalId: "w1" }).ok).to.equal(
      false,
    );
    expect(h.run({ type: "withdraw", ts: h.ts, account: "A", amount: free, withdrawalId: "w1" }).ok).to.equal(true);
    expect(h.e.freeCollateral("A")).to.equal(0);
    expect(h.run({ type: "withdrawResult", ts: h.ts, withdrawalId: "w1", ok: false }).ok).to.equal(true);
    expect(h.e.freeCollateral("A")).to.equal(free);
  });

  it("keeps a client's local book equal to the engine's through random orders (snapshot + diff rule)", () => {
    const h = new H();
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const ids: number[] = [];
    let local: LocalBook | null = null;
    let prevSeq = h.e.marketState(1).seq;
    for (let i = 0; i < 3000; i++) {
      if (i === 500) local = new LocalBook(h.depth());
      const acct = ["A", "B", "C"][rnd(3)];
      h.last = [];
      if (rnd(10) < 3 && ids.length > 0) {
        const id = ids.splice(rnd(ids.length), 1)[0];
        const o = h.e.order(id);
        if (o) h.cancel(o.account, id);
      } else {
        const side = rnd(2) ? "BUY" : "SELL";
        const p = 60_000 + (rnd(41) - 20) / 10;
        const ack = h.limit(acct, side, p, 1 + rnd(5), {
          tif: rnd(10) === 0 ? "IOC" : "GTC",
          stp: rnd(4) === 0 ? "EXPIRE_MAKER" : "NONE",
        });
        if (ack.ok) ids.push(ack.orderId);
      }
      for (const ev of h.last) {
        if (ev.market !== 1) continue;
        expect(ev.seq).to.equal(prevSeq + 1);
        prevSeq = ev.seq;
        if (local && ev.kind === "depth") local.apply(ev as DepthEvent);
      }
      const b = h.depth();
      if (b.bids.length && b.asks.length) expect(b.bids[0][0]).to.be.lessThan(b.asks[0][0]);
    }
    expect(local!.gap).to.equal(false);
    const d = h.depth();
    expect(local!.view()).to.deep.equal({ bids: d.bids, asks: d.asks });
    expect(local!.lastU).to.equal(d.lastUpdateId);
    // a client that drops a message detects the gap
    const l2 = new LocalBook(h.depth());
    h.limit("A", "BUY", 59_999, 1);
    h.limit("A", "BUY", 59_998, 1);
    l2.apply(h.lastOfKind("depth")[0]);
    expect(l2.gap).to.equal(true);
  });

  it("is deterministic: the same inputs give the same outputs", () => {
    const run = () => {
      const h = new H();
      for (let i = 0; i < 200; i++)
        h.limit(i % 3 === 0 ? "A" : "B", i % 2 ? "BUY" : "SELL", 60_000 + (i % 7) / 10, 1 + (i % 3));
      return JSON.stringify(h.events);
    };
    expect(run()).to.equal(run());
  });
});

describe("matcher engine: conditional orders, reduce-only, breaker, countdown, chain commands", () => {
  it("stop-market triggers on last price; stop-limit on mark price; immediate triggers are refused", () => {
    const h = new H();
    expect(
      h.place({ account: "A", side: "BUY", orderType: "STOP_MARKET", qty: lots(1), stopPrice: px(59_000) }).reason,
    ).to.equal("WOULD_IMMEDIATELY_TRIGGER");
    const stop = h.place({
      account: "A",
      side: "BUY",
      orderType: "STOP_MARKET",
      qty: lots(1),
      stopPrice: px(60_010),
    }).orderId;
    const sl = h.place({
      account: "C",
      side: "SELL",
      orderType: "STOP",
      qty: lots(1),
      price: px(59_000),
      stopPrice: px(59_500),
      workingType: "MARK_PRICE",
    }).orderId;
    h.limit("B", "SELL", 60_010, 1);
    h.limit("B", "SELL", 60_020, 2);
    h.limit("C", "BUY", 60_010, 1); // last = 60010 -> A's stop fires, buys at 60020
    const t = h.lastOfKind("trade");
    expect(t.map((x) => x.takerOrderId)).to.include(stop);
    expect(h.lastOfKind("order").find((u) => u.orderId === stop && u.execType === "TRIGGERED")?.orderType).to.equal(
      "MARKET",
    );
    expect(h.e.order(sl)?.conditional).to.equal(true);
    h.limit("B", "BUY", 59_000, 1);
    h.run({ type: "mark", ts: h.ts, market: 1, price: px(59_400) });
    expect(h.lastOfKind("trade")[0].takerOrderId).to.equal(sl);
  });

  it("take-profit and trailing stop", () => {
    const h = new H();
    h.limit("A", "BUY", 60_000, 2);
    h.limit("B", "SELL", 60_000, 2); // B short 2
    const tp = h.place({
      account: "B",
      side: "BUY",
      orderType: "TAKE_PROFIT_MARKET",
      qty: 0,
      closePosition: true,
      stopPrice: px(59_900),
    }).orderId;
    const tr = h.place({
      account: "A",
      side: "SELL",
      orderType: "TRAILING_STOP_MARKET",
      qty: lots(1),
      callbackRatePpm: 10_000,
      activationPrice: px(60_100),
      reduceOnly: true,
    }).orderId;
    const trade = (p: number) => {
      h.limit("C", "SELL", p, 1);
      h.limit("C", "BUY", p, 1); // self-trade allowed (STP NONE): moves the last price
    };
    trade(60_200); // activates the trailing stop (>= 60100), extreme 60200
    expect(h.e.order(tr)?.conditional).to.equal(true);
    trade(59_800); // <= 59900: B's take-profit fires; trailing needs <= 60200 * 0.99 = 59598
    const trig = h.lastOfKind("order").filter((u) => u.execType === "TRIGGERED");
    expect(trig.map((u) => u.orderId)).to.deep.equal([tp]);
    expect(trig[0].qty).to.equal(lots(2)); // closePosition: the whole short
    expect(h.e.order(tr)?.conditional).to.equal(true);
    trade(59_600);
    expect(h.e.order(tr)?.conditional).to.equal(true);
    trade(59_598);
    expect(h.lastOfKind("order").some((u) => u.orderId === tr && u.execType === "TRIGGERED")).to.equal(true);
  });

  it("10,000 resting trailing stops do not slow trading down (no pass over them per trade)", () => {
    // ten funded accounts may rest 10,000 trailing stops (1,000 each, no margin needed): a pass over
    // all of them after every trade cut the benchmark workload from ~500k to ~43k ops/s
    const accounts: Record<string, number> = { A: 1e6 * USD, B: 1e6 * USD, C: 1e6 * USD };
    for (let i = 0; i < 10; i++) accounts[`T${i}`] = 1e6 * USD;
    const cfg = btc({ maxConditionalOrders: 1_000 }); // the benchmark market's limit
    const quiet = new H([cfg], accounts);
    const loaded = new H([cfg], accounts);
    for (let i = 0; i < 10_000; i++) {
      const ack = loaded.place({
        account: `T${i % 10}`,
        side: i % 2 ? "BUY" : "SELL",
        orderType: "TRAILING_STOP_MARKET",
        qty: lots(1),
        callbackRatePpm: 50_000 + (i % 1000) * 10, // 5-6%: none triggers below
        ...(i % 3 === 0 ? { activationPrice: px(i % 2 ? 50_000 : 70_000) } : {}),
        workingType: i % 4 < 2 ? "MARK_PRICE" : "CONTRACT_PRICE",
      });
      expect(ack.ok, ack.reason).to.equal(true);
    }
    const trades = (h: H, n: number) => {
      const t = performance.now();
      for (let k = 0; k < n; k++) {
        const p = 60_000 + (k % 9) - 4;
        h.limit("B", "SELL", p, 1);
        h.limit("C", "BUY", p, 1);
        h.events.length = 0;
      }
      return performance.now() - t;
    };
    trades(quiet, 500);
    trades(loaded, 500); // JIT
    // the fastest of 8 rounds each: a GC pause or a busy spell on the host only adds time to a round,
    // so one falling on a side (a round is ~1 ms) does not decide the ratio
    let tQuiet = Infinity;
    let tLoaded = Infinity;
    for (let r = 0; r < 8; r++) {
      tQuiet = Math.min(tQuiet, trades(quiet, 500));
      tLoaded = Math.min(tLoaded, trades(loaded, 500));
    }
    expect(loaded.e.openOrders("T0").length).to.equal(1_000); // nothing triggered
    // the pass made this ratio ~30
    expect(tLoaded / tQuiet).to.be.lessThan(3);
  });

  it("every resting reduce-only order stays within its position through random ladders, fills and cancels", () => {
    const step = fc.record({
      kind: fc.integer({ min: 0, max: 5 }),
      who: fc.constantFrom("A", "B"),
      sell: fc.boolean(),
      off: fc.integer({ min: 1, max: 8 }),
      n: fc.integer({ min: 1, max: 6 }),
      pick: fc.nat(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120, size: "max" }), (steps) => {
        const h = new H();
        const ids: number[] = [];
        for (const s of steps) {
          const side = s.sell ? "SELL" : "BUY";
          if (s.kind <= 1) {
            // a trade with C at 60,000 moves the position
            h.limit("C", s.sell ? "BUY" : "SELL", 60_000, s.n);
            h.limit(s.who, side, 60_000, s.n);
          } else if (s.kind <= 3) {
            // a reduce-only order resting away from the touch (a ladder builds up)
            const ack = h.limit(s.who, side, s.sell ? 60_000 + s.off : 60_000 - s.off, s.n, { reduceOnly: true });
            if (ack.ok) ids.push(ack.orderId);
          } else if (s.kind === 4) {
            // C takes from the ladder
            h.limit("C", s.sell ? "BUY" : "SELL", s.sell ? 60_000 + s.off : 60_000 - s.off, s.n, { tif: "IOC" });
          } else if (ids.length > 0) h.cancel(s.who, ids[s.pick % ids.length]);
          for (const a of ["A", "B"]) {
            const pos = h.e.accountView(a)?.positions.get(1) ?? 0;
            const am = h.e.accounts.get(a)?.markets[0];
            for (const v of h.e.openOrders(a)) {
              if (!v.reduceOnly) continue;
              const rem = v.qty - v.filledQty;
              const allowed = v.side === "SELL" ? Math.max(0, pos) : Math.max(0, -pos);
              expect(rem, `${a}'s reduce-only ${v.orderId} at position ${pos}`).to.be.at.most(allowed);
              expect(rem).to.be.greaterThan(0);
              // the bound that lets a fill skip the pass over the orders is a bound
              expect(lots(v.side === "SELL" ? am!.roMaxSell : am!.roMaxBuy)).to.be.at.least(rem);
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it("reduce-only is clipped to the position, never flips, and is cancelled when the position closes", () => {
    const h = new H();
    expect(h.limit("A", "SELL", 60_100, 1, { reduceOnly: true }).reason).to.equal("REDUCE_ONLY_REJECTED");
    h.limit("B", "SELL", 60_000, 3);
    h.limit("A", "BUY", 60_000, 3); // A long 3
    const ro = h.limit("A", "SELL", 60_100, 5, { reduceOnly: true }).orderId;
    expect(h.e.order(ro)!.qty).to.equal(lots(3)); // clipped at placement
    const ro2 = h.limit("A", "SELL", 60_200, 2, { reduceOnly: true }).orderId;
    h.limit("A", "SELL", 59_990, 2); // plain sell fills against nothing -> rests... ensure it fills:
    h.limit("C", "BUY", 59_990, 2); // A sells 2 -> long 1
    expect(h.e.order(ro)!.qty).to.equal(lots(1));
    expect(h.e.order(ro2)!.qty).to.equal(lots(1));
    h.limit("C", "BUY", 60_100, 1); // ro fills, A flat -> ro2 cancelled
    expect(h.e.accountView("A")!.positions.get(1)).to.equal(undefined);
    expect(h.e.order(ro2)).to.equal(undefined);
    const cancel = h.lastOfKind("order").find((u) => u.orderId === ro2)!;
    expect(cancel.reason).to.equal("REDUCE_ONLY_CLOSED");
  });

  it("circuit breaker halts to cancel-only, publishes status and reopens after haltMs", () => {
    const h = new H([btc({ circuitBreaker: { movePpm: 10_000, windowMs: 1_000, haltMs: 5_000 } })]);
    h.limit("A", "SELL", 60_000, 1);
    h.limit("B", "BUY", 60_000, 1);
    h.limit("A", "SELL", 60_700, 1); // +1.17%
    const victim = h.limit("C", "BUY", 59_000, 1).orderId;
    h.limit("B", "BUY", 60_700, 2);
    const st = h.lastOfKind("status");
    expect(st[0].status).to.equal("HALT");
    expect(st[0].reopenAt).to.equal(h.ts + 5_000);
    expect(h.lastOfKind("order").pop()!.reason).to.equal("CIRCUIT_BREAKER");
    expect(h.limit("B", "BUY", 60_000, 1).reason).to.equal("MARKET_HALTED");
    expect(h.cancel("C", victim).ok).to.equal(true);
    h.ts += 4_999;
    h.run({ type: "tick", ts: h.ts });
    expect(h.e.marketState(1).status).to.equal("HALT");
    h.ts += 1;
    h.run({ type: "tick", ts: h.ts });
    expect(h.lastOfKind("status")[0].status).to.equal("TRADING");
    expect(h.limit("B", "BUY", 60_000, 1).ok).to.equal(true);
  });

  it("mass cancel and cancel-on-disconnect countdown", () => {
    const h = new H();
    h.limit("A", "BUY", 59_000, 1);
    h.limit("A", "BUY", 59_001, 1);
    h.place({ account: "A", side: "SELL", orderType: "STOP_MARKET", stopPrice: px(59_000), qty: lots(1) });
    h.run({ type: "cancelAll", ts: h.ts, account: "A", market: 1 });
    expect(h.e.openOrders("A")).to.deep.equal([]);
    h.limit("A", "BUY", 59_000, 1);
    h.run({ type: "countdown", ts: h.ts, account: "A", timeoutMs: 1_000 });
    h.ts += 900;
    h.run({ type: "countdown", ts: h.ts, account: "A", timeoutMs: 1_000 }); // renewed
    h.ts += 900;
    h.run({ type: "tick", ts: h.ts });
    expect(h.e.openOrders("A").length).to.equal(1);
    h.ts += 100;
    h.run({ type: "tick", ts: h.ts });
    expect(h.e.openOrders("A").length).to.equal(0);
    expect((h.lastOfKind("order")[0] as OrderUpdateEvent).reason).to.equal("COUNTDOWN");
  });

  it("chain commands: on-chain cancel, liquidation, funding, failed settlement", () => {
    const h = new H();
    h.limit("A", "BUY", 59_000, 1, { hash: "0xabc" });
    expect(h.run({ type: "chainCancel", ts: h.ts, account: "A", hash: "0xabc" }).ok).to.equal(true);
    expect(h.lastOfKind("order")[0].reason).to.equal("CHAIN_CANCEL");
    h.limit("B", "SELL", 60_000, 2);
    h.limit("A", "BUY", 60_000, 2);
    const trade = h.lastOfKind("trade")[0] as TradeEvent;
    const cashA = h.e.accountView("A")!.cash;
    // funding: +1 USD per BTC -> A (long 0.002) pays ceil(0.002) = 2000 quote units; B receives 2000
    h.run({ type: "funding", ts: h.ts, market: 1, indexDelta: USD });
    expect(h.e.accountView("A")!.cash).to.equal(cashA - 2_000);
    h.run({ type: "settlement", ts: h.ts, tradeId: trade.tradeId, ok: false });
    expect(h.e.accountView("A")!.positions.get(1)).to.equal(undefined);
    expect(h.e.accountView("A")!.cash).to.equal(1e6 * USD - 2_000);
    expect(h.run({ type: "settlement", ts: h.ts, tradeId: trade.tradeId, ok: true }).reason).to.equal("UNKNOWN_TRADE");
    h.limit("A", "BUY", 59_000, 1);
    h.run({ type: "liquidation", ts: h.ts, account: "A", market: 1, sizeDelta: -lots(1), cashDelta: 50 * USD });
    expect(h.e.openOrders("A")).to.deep.equal([]);
    expect(h.e.accountView("A")!.positions.get(1)).to.equal(-lots(1));
  });

  it("a snapshot written when pending trades were whole trade events restores them: their failure is undone the same", () => {
    const run = (oldFormat: boolean) => {
      const h = new H();
      h.limit("B", "SELL", 60_000, 3);
      h.limit("A", "BUY", 60_000, 1, { tif: "IOC" });
      h.limit("C", "BUY", 60_000, 2, { tif: "IOC" });
      const trades = h.events.filter((ev): ev is TradeEvent => ev.kind === "trade");
      expect(trades.length).to.equal(2);
      const snap = takeSnapshot(h.e);
      if (oldFormat) snap.pendingTrades = trades.map((t) => ({ ...t }));
      h.e = restoreSnapshot({ markets: [btc()] }, JSON.parse(JSON.stringify(snap)) as typeof snap);
      for (const t of trades) h.run({ type: "settlement", ts: h.ts, tradeId: t.tradeId, ok: false });
      return JSON.stringify({ ...takeSnapshot(h.e), inSeq: 0 });
    };
    const now = run(false);
    expect(now).to.include('"pendingTrades":[]');
    expect(run(true)).to.equal(now);
  });

  it("settlement results: any order, each trade once, hostile trade ids rejected with nothing changed, pending trades kept by snapshots", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 9_000 }), (seed, nTrades) => {
        const h = new H();
        // many small trades: enough to span pages of the pending-trade index (4,096 ids a page)
        h.limit("B", "SELL", 60_000, nTrades);
        const ids: number[] = [];
        for (let i = 0; i < nTrades; i++) {
          h.limit("A", "BUY", 60_000, 1, { tif: "IOC" });
          ids.push((h.lastOfKind("trade")[0] as TradeEvent).tradeId);
        }
        // settle in a shuffled order, a third of them failed, each id twice and hostile ids between
        let s = seed;
        const rand = (n: number) => ((s = (s * 48271) % 2147483647), s % n);
        for (let i = ids.length - 1; i > 0; i--) {
          const j = rand(i + 1);
          [ids[i], ids[j]] = [ids[j], ids[i]];
        }
        const hostile = [0, -1, 1.5, Number.NaN, 2 ** 53, "1", null] as unknown as number[];
        const pending = new Set(ids);
        for (const [k, id] of ids.entries()) {
          if (k === ids.length >> 1) {
            // halfway: the engine restored from a snapshot carries on with the pending trades
            const snap = takeSnapshot(h.e);
            expect(snap.pendingTrades.map((t) => t.tradeId)).to.deep.equal([...pending].sort((a, b) => a - b));
            h.e = restoreSnapshot({ markets: [btc()] }, JSON.parse(JSON.stringify(snap)) as typeof snap);
          }
          // the state but the input counter (a rejected command is an input too)
          const state = () => JSON.stringify({ ...takeSnapshot(h.e), inSeq: 0 });
          const before = k % 500 === 0 ? state() : "";
          for (const bad of hostile)
            expect(h.run({ type: "settlement", ts: h.ts, tradeId: bad, ok: false }).reason).to.equal("UNKNOWN_TRADE");
          if (before !== "") expect(state()).to.equal(before);
          expect(h.run({ type: "settlement", ts: h.ts, tradeId: id, ok: k % 3 !== 0 }).reason).to.equal("OK");
          expect(h.run({ type: "settlement", ts: h.ts, tradeId: id, ok: true }).reason).to.equal("UNKNOWN_TRADE");
          pending.delete(id);
        }
        expect(takeSnapshot(h.e).pendingTrades).to.deep.equal([]);
        // the failed third were undone: A's position is what the settled trades left
        const settledLots = ids.filter((_, k) => k % 3 !== 0).length;
        expect(h.e.accountView("A")!.positions.get(1) ?? 0).to.equal(lots(settledLots));
      }),
      { numRuns: 6 },
    );
  });

  it("many markets in one engine keep separate sequences", () => {
    const e = new Engine({ markets: [btc(), btc({ id: 2, symbol: "ETHUSD" })] });
    e.process({ type: "mark", ts: 1, market: 1, price: px(60_000) });
    e.process({ type: "mark", ts: 1, market: 2, price: px(3_000) });
    const seqs = e.events.map((x) => [x.market, x.seq]);
    expect(seqs).to.deep.equal([
      [1, 1],
      [2, 1],
    ]);
  });
});

describe("matcher engine: cached account health", () => {
  it("a cached health (and each of its terms) is always that of the account's current sums at the current mark (random workloads)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const e = new Engine({ markets: CRASH_MARKETS });
        let valid = 0;
        for (const c of crashWorkload(1_500, seed)) {
          e.process(c);
          e.events.length = 0;
          for (const { am, risk, label } of accountMarkets(e))
            if (expectCachedHealthExact(risk, am, `${label} after ${c.type}`)) valid++;
        }
        expect(valid).to.be.greaterThan(0);
      }),
      { numRuns: 25 },
    );
  });
});

describe("matcher engine: processBatch", () => {
  // inputs that process() rejects, mixed in: warm() must read past them without throwing or changing anything
  const hostile = (i: number): Command =>
    [
      null,
      7,
      { type: "cancel", ts: 3, account: "A", market: 1, orderId: "1" },
      { type: "cancel", ts: 3, account: "A", market: 1, orderId: -1 },
      { type: "cancel", ts: 3, account: "A", market: 1, orderId: 1.5 },
      { type: "cancel", ts: 3, account: "A", market: 1, orderId: Infinity },
      { type: "cancel", ts: 3, account: "A", market: 1, clientOrderId: "x" },
      { type: "place", ts: 3, account: "A", market: 99, side: "BUY", orderType: "LIMIT", price: 1, qty: 1 },
      { type: "place", ts: 3, account: 5, market: 1, side: "SELL", orderType: "LIMIT", price: NaN, qty: 1 },
      { type: "place", ts: 3, account: "nobody", market: 1, side: "BUY", orderType: "LIMIT", price: 60_000.05e6 },
      { type: "place", ts: 3, account: "B", market: "1", side: "BUY", orderType: "MARKET", qty: 100_000 },
    ][i % 11] as unknown as Command;

  it("gives the acks, events and state that process() gives one command at a time (random workloads, random batch bounds)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (seed, cuts, bad) => {
          const cmds = crashWorkload(1_500, seed);
          for (const b of bad) cmds.splice(b % cmds.length, 0, hostile(b));
          const one = new Engine({ markets: CRASH_MARKETS });
          const oneAcks = cmds.map((c) => one.process(c));
          const batched = new Engine({ markets: CRASH_MARKETS });
          for (let i = 0, k = 0; i < cmds.length; k++) {
            const end = Math.min(cmds.length, i + cuts[k % cuts.length]);
            batched.processBatch(cmds, i, end);
            i = end;
          }
          expect(batched.ackLog.toAcks()).to.deep.equal(oneAcks);
          expect(batched.events).to.deep.equal(one.events);
          expect(takeSnapshot(batched)).to.deep.equal(takeSnapshot(one));
        },
      ),
      { numRuns: 20 },
    );
  });

  it("warm() reads a field in every cache line of an Order's hot fields (at most 64 bytes apart, first to last)", () => {
    // V8 lays the fields out in declaration order, 8 bytes each after a 24-byte header (Node 20: no
    // pointer compression); Engine.readWarmed reads these four, and the fields after the last of them
    // are only those read for conditional orders and by queries. A field added or moved must keep this.
    const e = new Engine({ markets: CRASH_MARKETS });
    for (const c of crashWorkload(200, 3)) e.process(c);
    const o = e.orders.values().next().value as object;
    const keys = Object.keys(o);
    const read = ["id", "ticks", "stp", "filledQP"];
    const offsets = read.map((k) => 24 + 8 * keys.indexOf(k));
    expect(offsets[0]).to.be.at.most(64); // from the header, which every field read loads (its map)
    for (let i = 1; i < offsets.length; i++) expect(offsets[i] - offsets[i - 1]).to.be.within(8, 64);
    const cold = [
      "orderType",
      "origType",
      "tif",
      "workingType",
      "stopPrice",
      "ts",
      "activation",
      "callbackPpm",
      "activated",
      "extreme",
    ];
    expect(keys.slice(keys.indexOf(read[read.length - 1]) + 1)).to.have.members(cold);
  });

  it("warm() changes nothing, whatever it is given", () => {
    const e = new Engine({ markets: CRASH_MARKETS });
    const cmds = crashWorkload(3_000, 5);
    for (const c of cmds) e.process(c);
    const before = JSON.stringify(takeSnapshot(e));
    const events = e.events.length;
    const junk = [...cmds, ...Array.from({ length: 11 }, (_, i) => hostile(i))];
    e.warm(junk, 0, junk.length);
    e.warm(junk, junk.length - 11, junk.length + 5); // past the end
    expect(JSON.stringify(takeSnapshot(e))).to.equal(before);
    expect(e.events.length).to.equal(events);
  });
});
