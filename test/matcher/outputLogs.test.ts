import { expect } from "chai";
import fc from "fast-check";
import { AckLog } from "../../matcher/engine/ackLog";
import { EventLog, LevelBuffer, NO_LEVELS } from "../../matcher/engine/eventLog";
import {
  kindsHasStopPrice,
  kindsOrderType,
  kindsOrigType,
  kindsTif,
  kindsWorkingType,
  orderTypeCode,
  packKinds,
  tifCode,
  workingTypeCode,
} from "../../matcher/engine/orderKinds";
import {
  DepthEvent,
  MarkEvent,
  ORDER_TYPES,
  OrderUpdateEvent,
  Reason,
  TIME_IN_FORCES,
  TradeEvent,
  WORKING_TYPES,
  type CommandType,
  type EngineEvent,
} from "../../matcher/engine/types";

// The engine writes its acks and events into these logs (no object each); consumers decode them.
// Decoding must give back exactly what was written, whatever the values and however far the logs grew.

/** Numbers as the engine writes them: safe integers, big ones included (quote units reach 2^53). */
const num = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.maxSafeInteger(), fc.constant(2 ** 53 - 1));

const orderEvent = fc
  .tuple(
    fc.array(num, { minLength: 13, maxLength: 13 }),
    fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    fc.constantFrom(...ORDER_TYPES),
    fc.constantFrom(...ORDER_TYPES),
    fc.constantFrom(...TIME_IN_FORCES),
    fc.constantFrom(...WORKING_TYPES),
  )
  .map(
    ([n, b, orderType, origType, tif, workingType]) =>
      new OrderUpdateEvent(
        n[0],
        n[1],
        n[2],
        n[3],
        `c${n[4]}`,
        `0xacct${n[5]}`,
        b[0] ? "BUY" : "SELL",
        orderType,
        origType,
        tif,
        n[6],
        n[7],
        n[8],
        n[9],
        n[10],
        n[11],
        n[12],
        "PARTIALLY_FILLED",
        "TRADE",
        Reason.OK,
        b[1],
        b[2],
        workingType,
        `0xhash${n[0]}`,
        n[5],
        b[3],
      ),
  );

const tradeEvent = fc
  .tuple(fc.array(num, { minLength: 12, maxLength: 12 }), fc.boolean())
  .map(
    ([n, buy]) =>
      new TradeEvent(
        n[0],
        n[1],
        n[2],
        n[3],
        n[4],
        n[5],
        n[6],
        n[7],
        buy ? "BUY" : "SELL",
        n[8],
        n[9],
        "0xmh",
        "0xth",
        "0xma",
        "0xta",
        n[10],
        n[11],
      ),
  );

const levels = fc.array(fc.tuple(num, num), { maxLength: 40 });
const depthEvent = fc
  .tuple(num, num, num, num, levels, levels)
  .map(([m, seq, ts, pu, bids, asks]) => new DepthEvent(m, seq, ts, pu + 1, seq, pu, bids, asks));

const markEvent = fc.tuple(num, num, num, num).map(([m, s, t, p]) => new MarkEvent(m, s, t, p));

function write(log: EventLog, e: EngineEvent): void {
  if (e instanceof OrderUpdateEvent)
    log.order(
      e.market,
      e.seq,
      e.ts,
      e.orderId,
      e.clientOrderId,
      e.account,
      e.side === "BUY",
      packKinds(e.orderType, e.origType, e.tif, e.workingType),
      e.price,
      e.stopPrice,
      e.qty,
      e.filledQty,
      e.filledQuote,
      e.lastQty,
      e.lastPrice,
      e.status,
      e.execType,
      e.reason,
      e.reduceOnly,
      e.closePosition,
      e.hash,
      e.tradeId,
      e.isMaker,
    );
  else if (e instanceof TradeEvent)
    log.trade(
      e.market,
      e.seq,
      e.ts,
      e.tradeId,
      e.price,
      e.qty,
      e.buyerPays,
      e.sellerGets,
      e.takerSide === "BUY",
      e.makerOrderId,
      e.takerOrderId,
      e.makerHash,
      e.takerHash,
      e.makerAccount,
      e.takerAccount,
      e.makerFee,
      e.takerFee,
    );
  else if (e instanceof DepthEvent) {
    const bids = new LevelBuffer();
    const asks = new LevelBuffer();
    for (const [p, q] of e.bids) bids.push(p, q);
    for (const [p, q] of e.asks) asks.push(p, q);
    log.depth(e.market, e.seq, e.ts, e.U, e.pu, bids, asks);
    expect(bids.n + asks.n).to.equal(0); // the buffers are left empty for the next command
  } else log.object(e);
}

describe("matcher engine: output logs (AckLog, EventLog)", () => {
  it("decode every event as written, in order, past the initial capacity and after a clear", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(orderEvent, tradeEvent, depthEvent, markEvent), { minLength: 1, maxLength: 3_000 }),
        (events) => {
          const log = new EventLog();
          for (const round of [0, 1]) {
            for (const e of events) write(log, e);
            expect(log.length, `round ${round}`).to.equal(events.length);
            const back = log.toEvents();
            expect(back).to.deep.equal(events);
            back.forEach((e, i) => expect(log.isTrade(i)).to.equal(e.kind === "trade"));
            log.clear();
            expect(log.toEvents()).to.deep.equal([]);
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it("an empty depth side decodes as the shared frozen empty array", () => {
    const log = new EventLog();
    const bids = new LevelBuffer();
    bids.push(5, 6);
    log.depth(1, 9, 0, 4, 3, bids, new LevelBuffer());
    const d = log.at(0) as DepthEvent;
    expect(d.bids).to.deep.equal([[5, 6]]);
    expect(d.asks).to.equal(NO_LEVELS);
    expect(Object.isFrozen(d.asks)).to.equal(true);
  });

  it("an order's kinds pack and unpack every combination of type, original type, time in force and working type", () => {
    const seen = new Set<number>();
    for (const ot of ORDER_TYPES)
      for (const orig of ORDER_TYPES)
        for (const tif of TIME_IN_FORCES)
          for (const wt of WORKING_TYPES) {
            const k = packKinds(ot, orig, tif, wt);
            expect(k).to.be.within(0, 2 ** 9 - 1);
            expect([kindsOrderType(k), kindsOrigType(k), kindsTif(k), kindsWorkingType(k)]).to.deep.equal([
              ot,
              orig,
              tif,
              wt,
            ]);
            // an event reads an order's stopPrice only when its original type can have one
            const stopType = ["STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"].includes(orig);
            expect(kindsHasStopPrice(k)).to.equal(stopType);
            seen.add(k);
          }
    expect(seen.size).to.equal(ORDER_TYPES.length ** 2 * TIME_IN_FORCES.length * WORKING_TYPES.length);
    // each code is the value's index in its table in types.ts (the switches and the tables agree)
    ORDER_TYPES.forEach((t, i) => expect(orderTypeCode(t)).to.equal(i));
    TIME_IN_FORCES.forEach((t, i) => expect(tifCode(t)).to.equal(i));
    WORKING_TYPES.forEach((t, i) => expect(workingTypeCode(t)).to.equal(i));
    expect([orderTypeCode("LIMITED"), tifCode("DAY"), workingTypeCode(undefined)]).to.deep.equal([-1, -1, -1]);
    // a value outside its type (a bad snapshot row) is said, not packed as some other kind
    expect(() => packKinds("LIMITED" as never, "LIMIT", "GTC", "MARK_PRICE")).to.throw(RangeError, /LIMITED/);
    expect(() => packKinds("LIMIT", "LIMITED" as never, "GTC", "MARK_PRICE")).to.throw(RangeError, /LIMITED/);
    expect(() => packKinds("LIMIT", "LIMIT", "DAY" as never, "MARK_PRICE")).to.throw(RangeError, /DAY.*time in force/);
    expect(() => packKinds("LIMIT", "LIMIT", "GTC", "INDEX" as never)).to.throw(RangeError, /INDEX.*working type/);
  });

  it("decoding past the end throws (no stale event is read)", () => {
    const log = new EventLog();
    log.object(new MarkEvent(1, 1, 1, 1));
    log.clear();
    expect(() => log.at(0)).to.throw(/no event 0/);
    const acks = new AckLog();
    expect(() => acks.at(0)).to.throw(RangeError);
  });

  it("a cleared log lets go of what one huge batch grew (no memory pinned), and works on", () => {
    const events = new EventLog();
    const acks = new AckLog();
    const size = (x: object) => (x as unknown as { f: Float64Array }).f.length;
    const ackSize = (x: object) => (x as unknown as { nums: Float64Array }).nums.length;
    const small = size(events);
    const smallAcks = ackSize(acks);
    for (let i = 0; i < 100_000; i++) {
      events.object(new MarkEvent(1, i, i, i));
      acks.push(i, "mark", Reason.OK, 0);
    }
    expect(size(events)).to.be.greaterThan(small);
    events.clear();
    acks.clear();
    expect(size(events)).to.equal(small);
    expect(ackSize(acks)).to.equal(smallAcks);
    events.object(new MarkEvent(1, 7, 7, 7));
    expect(events.toEvents()).to.deep.equal([new MarkEvent(1, 7, 7, 7)]);
  });

  it("acks decode as written (ok from the reason), past the initial capacity; pop removes the last", () => {
    const types: CommandType[] = ["place", "cancel", "tick", "balance"];
    const log = new AckLog();
    const want = [];
    for (let i = 0; i < 5_000; i++) {
      const reason = i % 3 === 0 ? Reason.OK : Reason.ORDER_NOT_FOUND;
      log.push(i + 1, types[i % 4], reason, i * 7);
      want.push({ inSeq: i + 1, type: types[i % 4], ok: reason === Reason.OK, reason, orderId: i * 7 });
    }
    expect(log.toAcks()).to.deep.equal(want);
    expect(log.inSeq(4_999)).to.equal(5_000);
    expect(log.pop()).to.deep.equal(want[4_999]);
    expect(log.length).to.equal(4_999);
    log.clear();
    expect(log.toAcks()).to.deep.equal([]);
  });
});
