import { expect } from "chai";
import fc from "fast-check";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { encodeCommand, RecordWriter } from "../../matcher/journal/codec";
import { decodeCommand, decodeJournal, RecordDecoder } from "../../matcher/journal/decode";
import { unpackBatch } from "../../matcher/journal/replayRecords";
import {
  placeCommand,
  cancelCommand,
  FileJournal,
  ORDER_TYPES,
  SIDES,
  STP_MODES,
  TIME_IN_FORCES,
  WORKING_TYPES,
  type Command,
  type PlaceCmd,
  type CancelCmd,
} from "../../matcher";

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

  it("keeps -0, fractions, exponents, NaN and huge numbers; a record inside a log decodes as decodeCommand's", () => {
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
          expect(decodeJournal(log, seq - 1)).to.deep.equal([
            [seq, cmd],
            [seq + 1, cmd],
          ]);
          expect(decodeJournal(log, seq)).to.deep.equal([[seq + 1, cmd]]);
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

  it("enumeration fields: known values, unknown text and values sharing a prefix all come back exactly", () => {
    const enums = {
      side: SIDES,
      orderType: ORDER_TYPES,
      tif: TIME_IN_FORCES,
      workingType: WORKING_TYPES,
      stp: STP_MODES,
    };
    // each known value, and near misses: one character short, one more, lower case, the last character
    // changed, one more in front (e.g. "BUYX", "GT")
    const near = (vals: readonly string[]) =>
      fc.oneof(
        fc.constantFrom(...vals),
        fc
          .constantFrom(...vals)
          .chain((v) => fc.constantFrom(v.slice(0, -1), v + "X", v.toLowerCase(), v.slice(0, -1) + "Q", "x" + v)),
        fc.stringMatching(/^[A-Za-z_]{0,22}$/),
      );
    const opt = (vals: readonly string[]) => fc.option(near(vals), { nil: undefined });
    const cmd = fc.record({
      side: near(enums.side),
      orderType: near(enums.orderType),
      tif: opt(enums.tif),
      workingType: opt(enums.workingType),
      stp: opt(enums.stp),
    });
    fc.assert(
      fc.property(cmd, (e) => {
        const c = placeCommand({ type: "place", ts: 7, account: "0xabc", market: 1, qty: 3, ...e } as PlaceCmd);
        const line = encodeCommand(c);
        // all but an empty optional string (the compact form would read it back as absent) are compact
        if (c.tif !== "" && c.workingType !== "" && c.stp !== "") expect(line[0]).to.equal("P");
        // the Buffer writer (known values from its byte tables, other text as it comes) writes the same bytes
        const w = new RecordWriter(8);
        w.command(3, c);
        expect(w.take().toString("utf8")).to.equal(`3\t${line}\n`);
        const back = decodeCommand(line);
        if (line[0] === "J") expect(strip(back)).to.deep.equal(strip(c));
        else expect(back).to.deep.equal(c);
        expect(decodeJournal(`9\t${line}\n`, 8)).to.deep.equal([[9, back]]);
      }),
      { numRuns: 3000 },
    );
    for (const [field, vals] of Object.entries(enums))
      for (const v of vals)
        for (const w of [v, v.slice(0, -1), v + "X", v.toLowerCase(), v.slice(0, -1) + "Q", "x" + v]) {
          const c = placeCommand({
            type: "place",
            ts: 7,
            account: "a",
            market: 1,
            side: "BUY",
            orderType: "LIMIT",
            qty: 3,
          });
          const line = encodeCommand({ ...c, [field]: w });
          expect(line[0]).to.equal("P");
          expect(decodeCommand(line)).to.deep.equal({ ...c, [field]: w });
        }
  });

  it("the Buffer writer's string cache: long strings with and without separators, ropes and flat copies, past its bound", () => {
    // strings over 16 characters are copied from a cache keyed by the string; one holding a separator
    // must still send its record to the JSON form, whether it is met first or again, and whether the
    // string is a concatenation (a rope) or a flat copy of the same text
    const text = fc.oneof(
      fc.string({ minLength: 17, maxLength: 60 }),
      fc.stringMatching(/^0x[0-9a-f]{40}$/),
      fc.constantFrom("0x" + "ab".repeat(20) + ",", "x".repeat(20) + "\n", "ü".repeat(17) + "\t", "é".repeat(30)),
    );
    const flat = (v: string) => JSON.parse(JSON.stringify(v)) as string;
    const rope = (v: string) => v.slice(0, 9) + v.slice(9);
    fc.assert(
      fc.property(text, fc.option(text, { nil: undefined }), fc.boolean(), (account, clientOrderId, asRope) => {
        const w = new RecordWriter(8);
        let want = "";
        for (const form of [flat, rope, flat]) {
          const a = asRope ? rope(account) : form(account);
          const cid = clientOrderId === undefined ? undefined : form(clientOrderId);
          const place = placeCommand({
            type: "place",
            ts: 1,
            account: a,
            market: 1,
            side: "BUY",
            orderType: "LIMIT",
            qty: 2,
            clientOrderId: cid,
          });
          const cancel = cancelCommand({
            type: "cancel",
            ts: 2,
            account: a,
            market: 1,
            orderId: 5,
            clientOrderId: cid,
          });
          for (const c of [place, cancel]) {
            w.command(11, c);
            want += `11\t${encodeCommand(c)}\n`;
          }
        }
        expect(w.take().toString("utf8")).to.equal(want);
      }),
      { numRuns: 2000 },
    );
    // more distinct long strings than the cache holds (it is cleared when full), then the first again
    const w = new RecordWriter(8);
    let want = "";
    const acct = (i: number) => "0x" + i.toString(16).padStart(40, "0");
    for (const i of [...Array.from({ length: 20_000 }, (_, i) => i), 0, 1, 19_999]) {
      const c = cancelCommand({ type: "cancel", ts: 1, account: acct(i), market: 1, orderId: i });
      w.command(i + 1, c);
      want += `${i + 1}\t${encodeCommand(c)}\n`;
    }
    expect(w.take().toString("utf8")).to.equal(want);
  });

  it("decodes each of 19,200 similar accounts to itself (the decoder's account cache has 4,096 slots: they collide)", () => {
    // accounts of one length sharing their first bytes; some differ only in their last two characters,
    // others only in the middle (a cache slot must match on every byte, not only on a prefix or on words)
    const accounts: string[] = [];
    for (let b = 0; b < 64; b++)
      for (let t = 0; t < 300; t++)
        accounts.push(
          `0x${"0".repeat(10)}${b.toString(16).padStart(2, "0")}${"0".repeat(26)}${t.toString(16).padStart(3, "0")}`,
        );
    const order = accounts.map((_, i) => (i * 7919) % accounts.length);
    const lines = order.map(
      (i, k) =>
        `${k + 1}\t${encodeCommand(cancelCommand({ type: "cancel", ts: k, account: accounts[i], market: 1, orderId: i }))}\n`,
    );
    const got = decodeJournal(lines.join(""));
    expect(got.length).to.equal(accounts.length);
    got.forEach(([, c], k) => expect((c as CancelCmd).account, `record ${k + 1}`).to.equal(accounts[order[k]]));
  });

  it("a consumer that decodes while a decode hands it a batch does not disturb it", () => {
    const cmds = Array.from({ length: 10 }, (_, i) =>
      cancelCommand({ type: "cancel", ts: i, account: `0x${i}`, market: 1, orderId: i + 1 }),
    );
    const log = cmds.map((c, i) => `${i + 1}\t${encodeCommand(c)}\n`).join("");
    const got: [number, Command][] = [];
    const d = new RecordDecoder(3, (b) =>
      unpackBatch(b, (s, c) => {
        got.push([s, c]);
        decodeCommand(encodeCommand(cmds[0])); // another decode, inside this one
      }),
    );
    const bytes = Buffer.from(log);
    expect(d.decode(bytes, 0, bytes.length, 0, 0)).to.equal(10);
    d.flush();
    expect(got).to.deep.equal(cmds.map((c, i) => [i + 1, c]));
  });

  it("refuses a malformed line with an error naming it, after handing over the records before it", () => {
    const c = placeCommand({
      type: "place",
      ts: 1,
      account: "0xabc",
      market: 1,
      side: "BUY",
      orderType: "LIMIT",
      qty: 3,
    });
    const x = cancelCommand({ type: "cancel", ts: 2, account: "0xabc", market: 1, orderId: 7 });
    const p = encodeCommand(c);
    const k = encodeCommand(x);
    const cases: [string, string][] = [
      [`2\t${p.slice(0, p.lastIndexOf(","))}\n`, "journal: record 2 has the wrong number of fields"],
      [`2\t${p},\n`, "journal: record 2 has the wrong number of fields"],
      [`2\t${k.slice(0, k.lastIndexOf(","))}\n`, "journal: record 2 has the wrong number of fields"],
      [`2\t${k},7\n`, "journal: record 2 has the wrong number of fields"],
      [`2\tP,\n`, "journal: record 2 has the wrong number of fields"],
      [`${p}\n`, `journal: a line without its inSeq: ${p.slice(0, 40)}`],
      ["\n", "journal: a line without its inSeq: "],
      ["x2\tC,1\n", "journal: a line without its inSeq: x2\tC,1"],
      ["2\tX,1,2\n", "journal: unknown record kind in X,1,2"],
      ["2\t\n", "journal: unknown record kind in "],
      ["3\tJ{}\n", "journal gap: 1 -> 3"],
    ];
    for (const [bad, msg] of cases) {
      const got: [number, Command][] = [];
      let err = "no error";
      try {
        got.push(...decodeJournal(`1\t${p}\n${bad}1\t${p}\n`));
      } catch (e) {
        err = (e as Error).message;
      }
      expect(err, JSON.stringify(bad)).to.equal(msg);
      // decodeJournal itself throws before returning: the record before the bad line reaches a consumer
      const seen: number[] = [];
      const d = new RecordDecoder(64, (b) => unpackBatch(b, (s) => seen.push(s)));
      const bytes = Buffer.from(`1\t${p}\n${bad}`);
      expect(() => d.decode(bytes, 0, bytes.length, 0, 0)).to.throw(msg);
      expect(seen, JSON.stringify(bad)).to.deep.equal([1]);
    }
  });

  it("FileJournal.read decodes the same commands whatever the read size (ASCII and non-ASCII records, lines longer than a read)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "matcher-codec-"));
    try {
      const j = await FileJournal.open(dir, "p");
      const cmds: Command[] = [];
      for (let i = 0; i < 300; i++) {
        const account = i % 50 === 7 ? `0xé€😀${i}` : `0x${(i % 13).toString(16).padStart(40, "0")}`;
        if (i % 3 === 2) cmds.push(cancelCommand({ type: "cancel", ts: i, account, market: 1, orderId: i * 7 }));
        else
          cmds.push(
            placeCommand({
              type: "place",
              ts: i,
              account,
              market: 1,
              side: i % 2 ? "BUY" : "SELL",
              orderType: i % 5 ? "LIMIT" : "MARKET",
              tif: i % 5 ? "GTC" : undefined,
              price: i % 5 ? 60_000_000_000 + i : undefined,
              qty: 100_000 * (1 + (i % 4)),
              stp: "EXPIRE_MAKER",
              clientOrderId: i % 40 === 0 ? "c".repeat(300) + i : undefined, // longer than the smaller reads
            }),
          );
      }
      cmds.forEach((c, i) => j.appendCommand(i + 1, c));
      j.flush();
      while (j.durableInSeq() < cmds.length) await new Promise((r) => setTimeout(r, 1));
      await j.close();
      const want = cmds.map((c, i) => [i + 1, JSON.stringify(c)]);
      const saved = FileJournal.readChunkBytes;
      try {
        for (const chunk of [1, 5, 64, 333, 1000, 4096, 64 << 20]) {
          FileJournal.readChunkBytes = chunk;
          const r = await FileJournal.open(dir, "p");
          const got: [number, string][] = [];
          expect(await r.read(0, (seq, c) => got.push([seq, JSON.stringify(c)]))).to.equal(cmds.length);
          await r.close();
          expect(got, `chunk ${chunk}`).to.deep.equal(want);
        }
      } finally {
        FileJournal.readChunkBytes = saved;
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
