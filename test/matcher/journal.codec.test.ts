import { expect } from "chai";
import fc from "fast-check";
import {
  decodeAt,
  decodeBytes,
  decodeCommand,
  encodeCommand,
  parseSeq,
  RecordWriter,
  replayLines,
} from "../../matcher/journal/codec";
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
  it("the byte reader (replayLines, any chunking) reads the same records as the string reader", () => {
    const str = fc.oneof(fc.constantFrom("", "0xabc", "é€😀", "a,b", "BUY", "GTC", "IOC", "NONE"), fc.string());
    const num = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-0, 1e21, 2 ** 53, 1234567890123456));
    const place = fc.record({
      type: fc.constant("place" as const),
      ts: fc.integer({ min: 0 }),
      account: fc.oneof(fc.constantFrom("0x00000000000000000000000000000000000000a1", "0x01", "ü"), str),
      market: num,
      side: fc.oneof(fc.constantFrom("BUY", "SELL"), str),
      orderType: fc.oneof(fc.constantFrom("LIMIT", "MARKET", "STOP_MARKET"), str),
      tif: fc.option(fc.oneof(fc.constantFrom("GTC", "IOC"), str), { nil: undefined }),
      price: fc.option(num, { nil: undefined }),
      qty: num,
      stopPrice: fc.option(num, { nil: undefined }),
      reduceOnly: fc.option(fc.boolean(), { nil: undefined }),
      stp: fc.option(fc.oneof(fc.constantFrom("EXPIRE_MAKER", "NONE"), str), { nil: undefined }),
      clientOrderId: fc.option(str, { nil: undefined }),
      hash: fc.option(str, { nil: undefined }),
    });
    const cancel = fc.record({
      type: fc.constant("cancel" as const),
      ts: fc.integer({ min: 0 }),
      account: fc.oneof(fc.constantFrom("0x00000000000000000000000000000000000000a1", "0x01"), str),
      market: num,
      orderId: fc.option(num, { nil: undefined }),
      clientOrderId: fc.option(str, { nil: undefined }),
    });
    // records the writer never produces: more or fewer fields, odd numbers
    const odd = fc.constantFrom(
      "C,1,0x01,1,5,,extra",
      "C,1,0x01,1",
      "C,1,0x01",
      "P,1,0x01,1,BUY,LIMIT,GTC,5,1,,,,,,,,,,extra,more",
      "P,1,0x01,1,BUY,LIMIT",
      "P,1e3,0x01,-0,SELL,MARKET,,-,07, 5,x,1,0,,,,c,h",
      "C,-1,é,1,0x10,é",
    );
    const record = fc.oneof(
      fc.oneof(place, cancel).map((c) => encodeCommand(c as unknown as Command)),
      odd,
    );
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (lines, chunks, torn) => {
          const log = lines.map((l, i) => `${i + 1}\t${l}\n`).join("") + (torn ? "99\tC,1,0x01" : "");
          // the string reader (decodeAt over the decoded text)
          const want: [number, unknown][] = [];
          for (let pos = 0; ;) {
            const nl = log.indexOf("\n", pos);
            if (nl < 0) break;
            const tab = log.indexOf("\t", pos);
            want.push([parseSeq(log, pos, tab), decodeAt(log, tab + 1, nl)]);
            pos = nl + 1;
          }
          // the byte reader, fed in chunks of the given sizes (a cut line carried over)
          const bytes = Buffer.from(log);
          const got: [number, unknown][] = [];
          const r = { last: 0 };
          let buf = Buffer.alloc(0);
          for (let off = 0, k = 0; off < bytes.length; k++) {
            const n = Math.min(chunks[k % chunks.length], bytes.length - off);
            buf = Buffer.concat([buf, bytes.subarray(off, off + n)]);
            off += n;
            const used = replayLines(buf, buf.length, 0, r, (inSeq, cmd) => got.push([inSeq, cmd]));
            buf = Buffer.from(buf.subarray(used));
          }
          expect(got).to.deep.equal(want);
          expect(r.last).to.equal(lines.length);
          for (const [i, l] of lines.entries()) {
            const b = Buffer.from(l);
            expect(decodeBytes(b, 0, b.length)).to.deep.equal(want[i][1]);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
