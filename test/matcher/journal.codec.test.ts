import { expect } from "chai";
import fc from "fast-check";
import { decodeAt, decodeCommand, encodeCommand, parseSeq, RecordWriter } from "../../matcher/journal/codec";
import { placeCommand, cancelCommand, type Command, type PlaceCmd, type CancelCmd } from "../../matcher";

const strip = (o: object) => JSON.parse(JSON.stringify(o));

describe("matcher journal codec", () => {
  it("decode(encode(c)) gives back the command, well-typed or not", () => {
    const anyVal = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.string(),
      fc.boolean(),
      fc.constant(undefined),
      fc.constant(null),
    );
    const place = fc.record({
      type: fc.constant("place" as const),
      ts: fc.oneof(fc.integer({ min: 0 }), anyVal),
      account: fc.oneof(fc.stringMatching(/^0x[0-9a-f]{1,40}$/), fc.string()),
      market: fc.oneof(fc.integer(), anyVal),
      side: fc.oneof(fc.constantFrom("BUY", "SELL"), fc.string()),
      orderType: fc.constantFrom("LIMIT", "MARKET", "STOP_MARKET", "x,y"),
      tif: fc.option(fc.constantFrom("GTC", "IOC", "FOK", "GTX", ""), { nil: undefined }),
      price: fc.oneof(fc.integer(), anyVal),
      limitPrice: fc.option(fc.integer(), { nil: undefined }),
      qty: fc.oneof(fc.integer(), anyVal),
      stopPrice: fc.option(fc.integer(), { nil: undefined }),
      reduceOnly: fc.oneof(fc.boolean(), anyVal),
      clientOrderId: fc.option(fc.string(), { nil: undefined }),
      hash: fc.option(fc.string(), { nil: undefined }),
    });
    const cancel = fc.record({
      type: fc.constant("cancel" as const),
      ts: fc.integer({ min: 0 }),
      account: fc.string(),
      market: fc.oneof(fc.integer(), anyVal),
      orderId: fc.oneof(fc.integer(), anyVal),
      clientOrderId: fc.option(fc.string(), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.oneof(place, cancel), (c) => {
        const line = encodeCommand(c as unknown as Command);
        expect(line).to.not.match(/\n/);
        // the Buffer writer gives the same bytes as the string form
        const w = new RecordWriter(16);
        w.command(4242, c as unknown as Command);
        w.line(7, line);
        expect(w.take().toString("hex")).to.equal(Buffer.from(`4242\t${line}\n7\t${line}\n`).toString("hex"));
        const back = decodeCommand(line);
        const norm =
          c.type === "place" ? placeCommand(c as unknown as PlaceCmd) : cancelCommand(c as unknown as CancelCmd);
        if (line[0] === "J") expect(strip(back)).to.deep.equal(strip(c));
        else expect(back).to.deep.equal(norm);
      }),
      { numRuns: 3000 },
    );
  });

  it("keeps -0, fractions, exponents, NaN and huge numbers; decodeAt inside a log equals decodeCommand", () => {
    const nums = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.constantFrom(-0, 0, 1e21, -1e-7, 2 ** 53, -(2 ** 53) - 2, 123456789012345, 1234567890123456),
    );
    fc.assert(
      fc.property(nums, nums, nums, fc.nat(1e9), (a, b, c, seq) => {
        const place = placeCommand({
          type: "place",
          ts: a,
          account: "0xabc",
          market: b,
          side: "BUY",
          orderType: "LIMIT",
          price: c,
          qty: b,
          stopPrice: a,
        });
        const cancel = cancelCommand({ type: "cancel", ts: c, account: "0xabc", market: a, orderId: b });
        for (const cmd of [place, cancel]) {
          const line = encodeCommand(cmd);
          expect(line[0]).to.not.equal("J");
          const w = new RecordWriter(8);
          w.command(seq, cmd);
          expect(w.take().toString("latin1")).to.equal(`${seq}\t${line}\n`);
          expect(decodeCommand(line)).to.deep.equal(cmd);
          const log = `${seq}\t${line}\n${seq + 1}\t${line}\n`;
          const tab = log.indexOf("\t");
          const nl = log.indexOf("\n");
          expect(parseSeq(log, 0, tab)).to.equal(seq);
          expect(decodeAt(log, tab + 1, nl)).to.deep.equal(cmd);
          const tab2 = log.indexOf("\t", nl + 1);
          expect(decodeAt(log, tab2 + 1, log.length - 1)).to.deep.equal(cmd);
        }
      }),
      { numRuns: 3000 },
    );
    // non-ASCII strings and a growing buffer
    const w = new RecordWriter(4);
    let want = "";
    for (const account of ["0xé€😀", "a", "ü".repeat(50)]) {
      const c = placeCommand({
        type: "place",
        ts: 1,
        account,
        market: 1,
        side: "SELL",
        orderType: "LIMIT",
        qty: 5,
        clientOrderId: "ß",
      });
      w.command(3, c);
      want += `3\t${encodeCommand(c)}\n`;
    }
    expect(w.take().toString("utf8")).to.equal(want);
  });
});
