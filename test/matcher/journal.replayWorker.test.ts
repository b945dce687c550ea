// The journals' worker-thread replay (replayThread.ts) against the inline one, for the file and the
// Redis stream: the same commands (field for field: -0, NaN, undefined fields and unknown enumeration
// text included), the same engine event stream, the same gap error and torn-tail handling.
import { expect } from "chai";
import fc from "fast-check";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Redis from "ioredis";
import { FileJournal, RedisJournal, recover, type Command, type Journal } from "../../matcher";
import { encodeCommand } from "../../matcher/journal/codec";
import { decodeCommand, RecordDecoder } from "../../matcher/journal/decode";
import { unpackBatch } from "../../matcher/journal/replayRecords";
import { crashWorkload, CRASH_MARKETS } from "./fixtures/crash-workload";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "matcher-rw-"));

/** Same own keys in the same order, each value the same (Object.is: -0 and NaN count). */
function expectSame(a: Command, b: Command, what: string): void {
  const ka = Object.keys(a);
  expect(ka, what).to.deep.equal(Object.keys(b));
  for (const k of ka) {
    const va = (a as unknown as Record<string, unknown>)[k];
    const vb = (b as unknown as Record<string, unknown>)[k];
    if (typeof va === "object" && va !== null) expect(va, `${what}.${k}`).to.deep.equal(vb);
    else expect(Object.is(va, vb), `${what}.${k}: ${String(va)} vs ${String(vb)}`).to.equal(true);
  }
}

const anyNum = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-0, 2 ** 53, 1e21, Number.NaN));
const text = fc.oneof(fc.string(), fc.constantFrom("BUY", "SELL", "LIMIT", "GTC", "MARK_PRICE", "NONE", "BUYX", ""));
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const place = fc.record({
  type: fc.constant("place" as const),
  ts: anyNum,
  account: fc.oneof(fc.stringMatching(/^0x[0-9a-f]{1,40}$/), fc.string()),
  market: anyNum,
  side: text,
  orderType: fc.oneof(fc.constantFrom("LIMIT", "MARKET", "STOP_MARKET", "TRAILING_STOP_MARKET"), fc.string()),
  tif: opt(text),
  price: opt(anyNum),
  limitPrice: opt(fc.integer()),
  qty: anyNum,
  stopPrice: opt(anyNum),
  workingType: opt(text),
  reduceOnly: opt(fc.boolean()),
  closePosition: opt(fc.boolean()),
  activationPrice: opt(anyNum),
  callbackRatePpm: opt(anyNum),
  stp: opt(text),
  clientOrderId: opt(fc.string()),
  hash: opt(fc.string()),
});
const cancel = fc.record({
  type: fc.constant("cancel" as const),
  ts: anyNum,
  account: fc.string(),
  market: anyNum,
  orderId: opt(anyNum),
  clientOrderId: opt(fc.string()),
});
const other = fc.oneof(
  fc.record({ type: fc.constant("tick" as const), ts: fc.integer() }),
  fc.record({ type: fc.constant("balance" as const), ts: fc.integer(), account: fc.string(), delta: fc.integer() }),
);

async function writeJournal(dir: string, name: string, lines: string[], seqs?: number[]): Promise<void> {
  const j = await FileJournal.open(dir, name);
  lines.forEach((line, i) => j.append(seqs ? seqs[i] : i + 1, line));
  j.flush();
  const last = seqs ? seqs[seqs.length - 1] : lines.length;
  while (j.durableInSeq() < last) await new Promise((r) => setTimeout(r, 1));
  await j.close();
}

/** Runs f with replay forced through the worker (or kept inline) and the given chunk size, then restores both. */
async function replayingVia<T>(worker: boolean, f: () => Promise<T>, chunk = FileJournal.readChunkBytes): Promise<T> {
  const saved = [FileJournal.workerMinBytes, FileJournal.readChunkBytes];
  FileJournal.workerMinBytes = worker ? 0 : Infinity;
  FileJournal.readChunkBytes = chunk;
  try {
    return await f();
  } finally {
    [FileJournal.workerMinBytes, FileJournal.readChunkBytes] = saved;
  }
}

/** Everything j replays above `from`, then closes it. */
async function readAll(j: Journal, from: number) {
  const got: [number, Command][] = [];
  try {
    const last = await j.read(from, (seq, c) => got.push([seq, c]));
    return { last, got };
  } finally {
    await j.close();
  }
}

function readVia(worker: boolean, dir: string, name: string, from = 0, chunk = 16 << 20) {
  return replayingVia(worker, async () => readAll(await FileJournal.open(dir, name), from), chunk);
}

/** The message f() rejects with, or "no error". */
async function errorOf(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (err) {
    return (err as Error).message;
  }
  return "no error";
}

/** Replays j (20,000 commands) into a consumer that throws at the 5,000th: the read rejects with that error, and nothing comes after it. */
async function expectConsumerErrorStops(j: Journal): Promise<void> {
  let n = 0;
  const msg = await errorOf(() =>
    j.read(0, () => {
      if (++n === 5000) throw new Error("consumer failed");
    }),
  );
  await j.close();
  expect(msg).to.equal("consumer failed");
  expect(n).to.equal(5000); // nothing delivered after the failure
}

/** Commands recovered from j and a hash of recovery's acks and events. */
async function recoveryHash(j: Journal): Promise<[number, string]> {
  const h = createHash("sha256");
  const r = await recover(j, { markets: CRASH_MARKETS }, (ack, evs) => h.update(JSON.stringify([ack, evs])));
  await j.close();
  return [r.replayed, h.digest("hex")];
}

describe("matcher journal: replay through a worker thread", function () {
  this.timeout(120_000);

  it("a log decoded in batches of any size gives what each record decodes to alone, for any command the codec writes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(place, cancel, other), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        (cmds, batch) => {
          const lines = cmds.map((c) => encodeCommand(c as unknown as Command));
          const alone = lines.map((line) => decodeCommand(line));
          const log = Buffer.from(lines.map((line, i) => `${100 + i}\t${line}\n`).join(""));
          const out: [number, Command][] = [];
          const d = new RecordDecoder(batch, (b) => unpackBatch(b, (s, x) => out.push([s, x])));
          // two calls, split on a line boundary (the accounts' cache spans calls and batches)
          const mid = log.indexOf(10, log.length >> 1) + 1;
          const last = d.decode(log, 0, mid, 99, 99);
          expect(d.decode(log, mid, log.length, 99, last)).to.equal(99 + cmds.length);
          d.flush();
          expect(out.map(([s]) => s)).to.deep.equal(alone.map((_, i) => 100 + i));
          out.forEach(([, c], i) => expectSame(c, alone[i], `command ${i}`));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("reads the same commands as the inline reader (any chunk size, `from`, JSON records with multi-byte text, torn tail ignored)", async () => {
    const dir = tmp();
    const lines = crashWorkload(3000).map((c) => encodeCommand(c));
    for (let i = 0; i < 20; i++)
      lines.push("J" + JSON.stringify({ type: "tick", ts: 10_000_000 + i, note: `é€😀 ${i}` }));
    await writeJournal(dir, "j", lines);
    fs.appendFileSync(path.join(dir, "j.log"), `${lines.length + 1}\tP,torn`);
    const inline = await readVia(false, dir, "j");
    expect(inline.last).to.equal(lines.length);
    for (const [from, chunk] of [
      [0, 16 << 20],
      [0, 1],
      [0, 333],
      [1234, 4096],
      [lines.length, 64],
    ]) {
      const w = await readVia(true, dir, "j", from, chunk);
      const want = inline.got.filter(([s]) => s > from);
      expect(w.last, `from ${from} chunk ${chunk}`).to.equal(lines.length);
      expect(w.got.map(([s]) => s)).to.deep.equal(want.map(([s]) => s));
      w.got.forEach(([, c], i) => expectSame(c, want[i][1], `from ${from} chunk ${chunk} #${i}`));
    }
  });

  it("a gap in the journal fails the worker replay with the inline reader's error", async () => {
    const dir = tmp();
    const lines = crashWorkload(50).map((c) => encodeCommand(c));
    const seqs = lines.map((_, i) => (i < 30 ? i + 1 : i + 2)); // 31 is missing
    await writeJournal(dir, "gap", lines, seqs);
    expect(await errorOf(() => readVia(false, dir, "gap"))).to.equal("journal gap: 30 -> 32");
    expect(await errorOf(() => readVia(true, dir, "gap"))).to.equal("journal gap: 30 -> 32");
  });

  it("an error thrown by the consumer stops the worker replay and rejects", async () => {
    const dir = tmp();
    await writeJournal(
      dir,
      "stop",
      crashWorkload(20_000).map((c) => encodeCommand(c)),
    );
    await replayingVia(true, async () => expectConsumerErrorStops(await FileJournal.open(dir, "stop")));
  });

  it("recovery through the worker reproduces the inline recovery's acks and events", async () => {
    const dir = tmp();
    await writeJournal(
      dir,
      "rec",
      crashWorkload(20_000).map((c) => encodeCommand(c)),
    );
    const hashVia = (worker: boolean) =>
      replayingVia(worker, async () => recoveryHash(await FileJournal.open(dir, "rec")));
    const inline = await hashVia(false);
    expect(inline[0]).to.equal(20_000);
    expect(await hashVia(true)).to.deep.equal(inline);
  });
});

const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A Redis journal stream of `lines` written in groups of 1..maxGroup records (one XADD each). */
async function writeStream(key: string, lines: string[], maxGroup: number, seqs?: number[]): Promise<void> {
  const j = await RedisJournal.open(REDIS, key);
  let group = 1;
  for (let i = 0; i < lines.length;) {
    const end = Math.min(lines.length, i + group);
    for (; i < end; i++) j.append(seqs ? seqs[i] : i + 1, lines[i]);
    const last = seqs ? seqs[end - 1] : end;
    j.flush();
    while (j.durableInSeq() < last) await new Promise((r) => setTimeout(r, 1));
    group = (group * 7 + 3) % maxGroup || 1;
  }
  await j.close();
}

/** Runs f with Redis replay forced through the worker (or kept inline) and the given page size, then restores both. */
async function redisVia<T>(worker: boolean, f: () => Promise<T>, pageBytes = RedisJournal.pageBytes): Promise<T> {
  const saved = [RedisJournal.workerMinCommands, RedisJournal.pageBytes];
  RedisJournal.workerMinCommands = worker ? 0 : Infinity;
  RedisJournal.pageBytes = pageBytes;
  try {
    return await f();
  } finally {
    [RedisJournal.workerMinCommands, RedisJournal.pageBytes] = saved;
  }
}

describe("matcher journal: Redis stream replay, inline and through a worker thread", function () {
  this.timeout(120_000);
  const runId = `${process.pid}-${Date.now()}`;
  const key = (name: string) => `test:matcher:rw:${name}:${runId}`;
  after(async () => {
    const r = new Redis(REDIS);
    const keys = await r.keys(`test:matcher:rw:*:${runId}`);
    if (keys.length) await r.del(...keys);
    await r.quit();
  });

  it("both read what the file journal reads (any page size, any group size, `from` inside a group, multi-byte JSON records)", async () => {
    const lines = crashWorkload(3000).map((c) => encodeCommand(c));
    for (let i = 0; i < 20; i++)
      lines.splice(100 * i + 7, 0, "J" + JSON.stringify({ type: "tick", ts: 10_000_000 + i, note: `é€😀 ${i}` }));
    const dir = tmp();
    await writeJournal(dir, "ref", lines);
    const ref = await readVia(false, dir, "ref");
    await writeStream(key("same"), lines, 97);
    for (const [worker, from, pageBytes] of [
      [false, 0, 4 << 20],
      [true, 0, 4 << 20],
      [false, 0, 1],
      [true, 0, 1],
      [false, 1234, 2000],
      [true, 1234, 2000],
      [true, lines.length - 1, 64],
      [false, lines.length, 64],
    ] as const) {
      const what = `${worker ? "worker" : "inline"} from ${from} page ${pageBytes} B`;
      const r = await redisVia(
        worker,
        async () => readAll(await RedisJournal.open(REDIS, key("same")), from),
        pageBytes,
      );
      const want = ref.got.filter(([s]) => s > from);
      expect(r.last, what).to.equal(lines.length);
      expect(
        r.got.map(([s]) => s),
        what,
      ).to.deep.equal(want.map(([s]) => s));
      r.got.forEach(([, c], i) => expectSame(c, want[i][1], `${what} #${i}`));
    }
  });

  it("a gap fails both with the file journal's error", async () => {
    const lines = crashWorkload(50).map((c) => encodeCommand(c));
    const seqs = lines.map((_, i) => (i < 30 ? i + 1 : i + 2)); // 31 is missing
    await writeStream(key("gap"), lines, 9, seqs);
    for (const worker of [false, true]) {
      const msg = await redisVia(worker, () =>
        errorOf(async () => readAll(await RedisJournal.open(REDIS, key("gap")), 0)),
      );
      expect(msg, worker ? "worker" : "inline").to.equal("journal gap: 30 -> 32");
    }
  });

  it("an entry without its records, or missing some, fails both with an error naming the entry", async () => {
    await writeStream(
      key("bad"),
      crashWorkload(5).map((c) => encodeCommand(c)),
      2,
    );
    const r = new Redis(REDIS);
    const id = await r.xadd(key("bad"), "*", "l", "6");
    // an entry whose last record lost its newline (or that lost records) is damage, not a torn tail
    await writeStream(
      key("short"),
      crashWorkload(5)
        .slice(0, 5)
        .map((c) => encodeCommand(c)),
      2,
    );
    const line = encodeCommand(crashWorkload(7)[6]);
    const id2 = await r.xadd(key("short"), "*", "l", "7", "r", `6\t${line}\n7\t${line}`);
    await r.quit();
    for (const worker of [false, true]) {
      const what = worker ? "worker" : "inline";
      const read = (k: string) =>
        redisVia(worker, () => errorOf(async () => readAll(await RedisJournal.open(REDIS, k), 0)));
      expect(await read(key("bad")), what).to.equal(`journal: stream entry ${id} has no records`);
      expect(await read(key("short")), what).to.equal(`journal: stream entry ${id2} ends at inSeq 6, its l says 7`);
    }
  });

  it("an error thrown by the consumer stops the worker replay and rejects", async () => {
    await writeStream(
      key("stop"),
      crashWorkload(20_000).map((c) => encodeCommand(c)),
      500,
    );
    await redisVia(true, async () => expectConsumerErrorStops(await RedisJournal.open(REDIS, key("stop"))));
  });

  it("recovery through the worker reproduces the inline recovery's acks and events", async () => {
    await writeStream(
      key("rec"),
      crashWorkload(20_000).map((c) => encodeCommand(c)),
      700,
    );
    const hashVia = (worker: boolean) =>
      redisVia(worker, async () => recoveryHash(await RedisJournal.open(REDIS, key("rec"))));
    const inline = await hashVia(false);
    expect(inline[0]).to.equal(20_000);
    expect(await hashVia(true)).to.deep.equal(inline);
  });
});
