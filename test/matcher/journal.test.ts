import { expect } from "chai";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Redis from "ioredis";
import {
  Engine,
  FileJournal,
  JournaledEngine,
  RedisJournal,
  recover,
  replayWholeJournal,
  WholeReplayRulesError,
  type Ack,
  type EngineEvent,
  type Command,
  type Journal,
} from "../../matcher";
import { RulesMismatchError, takeSnapshot } from "../../matcher/journal/snapshot";
import { MATCHING_RULES } from "../../matcher/engine/engine";
import { encodeCommand } from "../../matcher/journal/codec";
import { crashWorkload, CRASH_MARKETS } from "./fixtures/crash-workload";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "matcher-j-"));
const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

function hashOf(acks: Ack[], events: EngineEvent[]): string {
  return createHash("sha256").update(JSON.stringify(acks)).update(JSON.stringify(events)).digest("hex");
}

async function runJournaled(journal: Journal, n: number, snapshotEvery = 0) {
  const acks: Ack[] = [];
  const events: EngineEvent[] = [];
  const je = await JournaledEngine.open({
    markets: CRASH_MARKETS,
    journal,
    snapshotEvery,
    onOutput: (a, e) => {
      a.toAcks(acks);
      e.toEvents(events);
    },
  });
  const cmds = crashWorkload(n);
  for (let i = 0; i < cmds.length; i++) {
    je.submit(cmds[i]);
    if (i % 97 === 0) await new Promise((r) => setImmediate(r));
  }
  await je.drain();
  const finalState = JSON.stringify(takeSnapshot(je.engine));
  await journal.close();
  return { acks, events, finalState };
}

/** A journal that replays `cmds` (inSeq 1, 2, ...) and then, if `fail`, rejects with it. */
function scriptedJournal(cmds: Command[], fail?: Error): Journal {
  return {
    append: () => {},
    flush: () => {},
    onDurable: () => {},
    onError: () => {},
    durableInSeq: () => cmds.length,
    read: async (from, fn) => {
      for (let i = from; i < cmds.length; i++) fn(i + 1, cmds[i]);
      if (fail) throw fail;
      return cmds.length;
    },
    saveSnapshot: async () => {},
    loadSnapshot: async () => null,
    close: async () => {},
  };
}

describe("matcher journal: recover applies in warmed batches, as one by one", () => {
  const cmds = crashWorkload(1_000, 11);

  it("gives the acks and events of process() one at a time, for any length (batch tails included)", async () => {
    for (const n of [0, 1, 31, 32, 33, 95, 1_000]) {
      const e = new Engine({ markets: CRASH_MARKETS });
      const want = cmds.slice(0, n).map((c) => [e.process(c), e.events.splice(0)]);
      const got: [Ack, EngineEvent[]][] = [];
      const r = await recover(scriptedJournal(cmds.slice(0, n)), { markets: CRASH_MARKETS }, (a, ev) =>
        got.push([a, ev.toEvents()]),
      );
      expect(got, `n = ${n}`).to.deep.equal(want);
      expect(r.replayed).to.equal(n);
      expect(JSON.stringify(takeSnapshot(r.engine))).to.equal(JSON.stringify(takeSnapshot(e)));
    }
  });

  it("a read error: the commands read before it are applied, then recover rejects with it", async () => {
    const seen: number[] = [];
    const err = new Error("journal gap: 45 -> 47");
    const p = recover(scriptedJournal(cmds.slice(0, 45), err), { markets: CRASH_MARKETS }, (a) => seen.push(a.inSeq));
    expect(
      await p.then(
        () => "resolved",
        (e: Error) => e.message,
      ),
    ).to.equal("journal gap: 45 -> 47");
    expect(seen).to.deep.equal(Array.from({ length: 45 }, (_, i) => i + 1));
  });

  it("onOutput throws: recover rejects with its error and applies nothing after that command", async () => {
    const seen: number[] = [];
    const p = recover(scriptedJournal(cmds.slice(0, 200)), { markets: CRASH_MARKETS }, (a) => {
      seen.push(a.inSeq);
      if (a.inSeq === 40) throw new Error("consumer failed");
    });
    expect(
      await p.then(
        () => "resolved",
        (e: Error) => e.message,
      ),
    ).to.equal("consumer failed");
    expect(seen).to.deep.equal(Array.from({ length: 40 }, (_, i) => i + 1));
  });
});

describe("matcher journal: JournaledEngine.submitBatch", () => {
  it("journals and releases what submit() does one by one (records, acks, events, snapshots)", async () => {
    const cmds = crashWorkload(2_500, 17);
    const run = async (batched: boolean) => {
      const dir = tmp();
      try {
        const acks: Ack[] = [];
        const events: EngineEvent[] = [];
        const journal = await FileJournal.open(dir, "j");
        const je = await JournaledEngine.open({
          markets: CRASH_MARKETS,
          journal,
          snapshotEvery: 700,
          onOutput: (a, e) => {
            a.toAcks(acks);
            e.toEvents(events);
          },
        });
        for (let i = 0, k = 0; i < cmds.length; k++) {
          const end = Math.min(cmds.length, i + [1, 45, 0, 300, 77][k % 5]);
          if (batched) expect(je.submitBatch(cmds, i, end)).to.equal(end);
          else for (let x = i; x < end; x++) je.submit(cmds[x]);
          i = end;
          await new Promise((r) => setImmediate(r));
        }
        await je.close();
        const records: string[] = [];
        const j2 = await FileJournal.open(dir, "j");
        await j2.read(0, (inSeq, c) => records.push(`${inSeq}\t${encodeCommand(c)}`));
        const snapshot = await j2.loadSnapshot();
        await j2.close();
        return { acks, events, records, snapshot };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    const one = await run(false);
    const batched = await run(true);
    expect(batched.records).to.deep.equal(one.records);
    expect(batched.records.length).to.equal(cmds.length);
    expect(batched.acks).to.deep.equal(one.acks);
    expect(batched.events).to.deep.equal(one.events);
    expect(batched.snapshot).to.equal(one.snapshot).and.not.equal(null);
  });
});

describe("matcher journal (file): chunked replay", () => {
  it("reads the same commands whatever the chunk size (lines and multi-byte characters split across chunks, torn tail ignored)", async () => {
    const dir = tmp();
    const j = await FileJournal.open(dir, "chunks");
    const lines = crashWorkload(400).map((c) => encodeCommand(c));
    // JSON records with multi-byte characters (the codec writes a command it has no compact form for as JSON)
    for (let i = 0; i < 20; i++)
      lines.push("J" + JSON.stringify({ type: "tick", ts: 10_000_000 + i, note: `é€😀 ${i}` }));
    lines.forEach((line, i) => j.append(i + 1, line));
    j.flush();
    while (j.durableInSeq() < lines.length) await new Promise((r) => setTimeout(r, 1));
    await j.close();
    fs.appendFileSync(path.join(dir, "chunks.log"), `${lines.length + 1}\tP,torn`); // a torn last line: never acknowledged
    const readAll = async (chunk: number) => {
      const saved = FileJournal.readChunkBytes;
      FileJournal.readChunkBytes = chunk;
      try {
        const r = await FileJournal.open(dir, "chunks");
        const got: [number, string][] = [];
        const last = await r.read(0, (seq, c) => got.push([seq, JSON.stringify(c)]));
        await r.close();
        return { last, got };
      } finally {
        FileJournal.readChunkBytes = saved;
      }
    };
    const whole = await readAll(64 << 20);
    expect(whole.last).to.equal(lines.length);
    expect(whole.got.map(([s]) => s)).to.deep.equal(lines.map((_, i) => i + 1));
    expect(whole.got[whole.got.length - 1][1]).to.contain("é€😀 19");
    for (const chunk of [1, 2, 3, 7, 64, 1000, 4096])
      expect(await readAll(chunk), `chunk ${chunk}`).to.deep.equal(whole);
  });
});

for (const backend of ["file", "redis"] as const) {
  describe(`matcher journal (${backend})`, function () {
    this.timeout(60_000);
    const open = async (name: string): Promise<Journal> => {
      if (backend === "file") return FileJournal.open(dirs[name] ?? (dirs[name] = tmp()), "t");
      return RedisJournal.open(REDIS, `test:matcher:${name}:${runId}`);
    };
    const dirs: Record<string, string> = {};
    const runId = `${process.pid}-${Date.now()}`;
    after(async () => {
      if (backend === "redis") {
        const r = new Redis(REDIS);
        const keys = await r.keys(`test:matcher:*:${runId}*`);
        if (keys.length) await r.del(...keys);
        await r.quit();
      }
    });

    it("acks only after the group is durable, and replay reproduces the exact event stream", async () => {
      const j = await open("a");
      const before = await runJournaled(j, 3_000);
      expect(before.acks.map((a) => a.inSeq)).to.deep.equal(Array.from({ length: 3_000 }, (_, i) => i + 1));
      const replayAcks: Ack[] = [];
      const replayEvents: EngineEvent[] = [];
      const j2 = await open("a");
      const r = await recover(j2, { markets: CRASH_MARKETS }, (a, e) => {
        replayAcks.push(a);
        e.toEvents(replayEvents);
      });
      await j2.close();
      expect(r.replayed).to.equal(3_000);
      expect(hashOf(replayAcks, replayEvents)).to.equal(hashOf(before.acks, before.events));
      expect(JSON.stringify(takeSnapshot(r.engine))).to.equal(before.finalState);
    });

    it("snapshot + replay of the tail gives the same state and the same tail events", async () => {
      const j = await open("b");
      const before = await runJournaled(j, 4_000, 1_500); // snapshots at 1500 and 3000
      const j2 = await open("b");
      const tail: EngineEvent[] = [];
      const tailAcks: Ack[] = [];
      const r = await recover(j2, { markets: CRASH_MARKETS }, (a, e) => {
        tailAcks.push(a);
        e.toEvents(tail);
      });
      await j2.close();
      expect(r.snapshotInSeq).to.equal(3_000);
      expect(r.replayed).to.equal(1_000);
      expect(JSON.stringify(takeSnapshot(r.engine))).to.equal(before.finalState);
      expect(hashOf(tailAcks, tail)).to.equal(
        hashOf(before.acks.slice(3_000), before.events.slice(before.events.length - tail.length)),
      );
      // and a fresh engine fed the same commands agrees
      const e = new Engine({ markets: CRASH_MARKETS });
      for (const c of crashWorkload(4_000)) e.process(c);
      expect(JSON.stringify(takeSnapshot(e))).to.equal(before.finalState);
    });

    it("matching rules: a tail written under other rules is not replayed (nothing applied or output); a graceful stop leaves nothing to replay", async () => {
      // an earlier release's journal: 300 commands after a snapshot that records no rules (rules 1)
      const j = await open("rules");
      const e = new Engine({ markets: CRASH_MARKETS });
      const old = { ...takeSnapshot(e) } as Partial<ReturnType<typeof takeSnapshot>>;
      delete old.rules;
      await j.saveSnapshot(0, JSON.stringify(old));
      crashWorkload(300).forEach((c, i) => j.append(i + 1, encodeCommand(c)));
      j.flush();
      while (j.durableInSeq() < 300) await new Promise((r) => setTimeout(r, 5));
      await j.close();
      let replayed = 0;
      let released = 0;
      const openIt = async (acceptRulesChange?: boolean) => {
        const journal = await open("rules");
        try {
          return await JournaledEngine.open({
            markets: CRASH_MARKETS,
            journal,
            acceptRulesChange,
            onReplay: () => replayed++,
            onOutput: (a) => (released += a.length),
          });
        } catch (x) {
          await journal.close();
          throw x;
        }
      };
      let err: unknown;
      try {
        await openIt();
      } catch (x) {
        err = x;
      }
      expect(err).to.be.instanceOf(RulesMismatchError);
      expect((err as RulesMismatchError).message).to.match(/after inSeq 0 .* rules 1, .* rules 2/);
      expect([(err as RulesMismatchError).journalRules, (err as RulesMismatchError).fromInSeq]).to.deep.equal([1, 0]);
      expect(replayed).to.equal(0);
      // and the refusal changed nothing: accepting the change replays all 300
      const je = await openIt(true);
      expect(replayed).to.equal(300);
      // the snapshot written at open records this engine's rules: what is journaled from here replays
      je.submit({ type: "tick", ts: 10_000_000 });
      await je.close();
      const r = await recover(await open("rules"), { markets: CRASH_MARKETS }, undefined, MATCHING_RULES);
      expect([r.snapshotInSeq, r.snapshotRules, r.replayed]).to.deep.equal([300, MATCHING_RULES, 1]);
      // a graceful stop snapshots: the next open replays nothing
      const je2 = await openIt();
      expect(replayed).to.equal(301);
      je2.submit({ type: "tick", ts: 10_000_001 });
      await je2.close({ snapshot: true });
      const r2 = await recover(await open("rules"), { markets: CRASH_MARKETS }, undefined, MATCHING_RULES);
      expect([r2.snapshotInSeq, r2.replayed]).to.deep.equal([302, 0]);
      expect(released).to.equal(2);
    });

    it("matching rules: a journal with commands and no snapshot (written before rules were recorded) is refused; a new one starts with a snapshot", async () => {
      const j = await open("nosnap");
      crashWorkload(50).forEach((c, i) => j.append(i + 1, encodeCommand(c)));
      j.flush();
      while (j.durableInSeq() < 50) await new Promise((r) => setTimeout(r, 5));
      await j.close();
      const journal = await open("nosnap");
      let err: unknown;
      try {
        await JournaledEngine.open({ markets: CRASH_MARKETS, journal, onOutput: () => {} });
      } catch (x) {
        err = x;
      }
      expect(err).to.be.instanceOf(RulesMismatchError);
      expect((err as RulesMismatchError).journalRules).to.equal(null);
      expect((err as Error).message).to.include("no snapshot");
      await journal.close();
      // a fresh journal: open writes a snapshot at inSeq 0 with the rules, so its commands replay later
      const fresh = await open("fresh");
      const je = await JournaledEngine.open({ markets: CRASH_MARKETS, journal: fresh, onOutput: () => {} });
      expect(JSON.parse((await fresh.loadSnapshot()) as string)).to.include({ inSeq: 0, rules: MATCHING_RULES });
      for (const c of crashWorkload(20)) je.submit(c);
      await je.close();
      const r = await recover(await open("fresh"), { markets: CRASH_MARKETS }, undefined, MATCHING_RULES);
      expect(r.replayed).to.equal(20);
    });

    it("matching rules: the whole journal is replayed (the bridge's fallback) only when these rules wrote all of it", async () => {
      const snapshotOf = async (name: string) => JSON.parse((await (await open(name)).loadSnapshot()) as string);
      const refusal = async (name: string) => {
        try {
          await replayWholeJournal(await open(name), { markets: CRASH_MARKETS });
        } catch (x) {
          return x;
        }
        return undefined;
      };
      // a journal begun under these rules, snapshotted along the way: the replay gives the published trades
      const run = await runJournaled(await open("whole"), 400, 64);
      const snap = await snapshotOf("whole");
      expect([snap.inSeq > 0, snap.rules, snap.rulesSince]).to.deep.equal([true, MATCHING_RULES, 0]);
      const published = run.events.filter((e) => e.kind === "trade");
      expect(published.length).to.be.greaterThan(10);
      const replayed = await replayWholeJournal(await open("whole"), { markets: CRASH_MARKETS });
      expect(JSON.stringify(replayed)).to.equal(JSON.stringify(published));

      // an earlier release's journal (300 commands), its rules change accepted: replayed whole, its first
      // 300 commands would be matched under rules that did not write them
      const j = await open("changed");
      const e = new Engine({ markets: CRASH_MARKETS });
      const old = { ...takeSnapshot(e) } as Partial<ReturnType<typeof takeSnapshot>>;
      delete old.rules;
      delete old.rulesSince;
      await j.saveSnapshot(0, JSON.stringify(old));
      crashWorkload(300).forEach((c, i) => j.append(i + 1, encodeCommand(c)));
      j.flush();
      while (j.durableInSeq() < 300) await new Promise((r) => setTimeout(r, 5));
      await j.close();
      const je = await JournaledEngine.open({
        markets: CRASH_MARKETS,
        journal: await open("changed"),
        acceptRulesChange: true,
        onOutput: () => {},
      });
      je.submit({ type: "tick", ts: 10_000_000 });
      await je.close({ snapshot: true }); // a later snapshot carries where the rules began
      expect(await snapshotOf("changed")).to.include({ inSeq: 301, rules: MATCHING_RULES, rulesSince: 300 });
      const err = await refusal("changed");
      expect(err).to.be.instanceOf(WholeReplayRulesError);
      expect((err as WholeReplayRulesError).rulesSince).to.equal(300);
      expect((err as Error).message).to.include("before inSeq 300");

      // a snapshot of these rules that does not say where they began (written before rulesSince was recorded)
      const k = await open("unknown");
      const s2 = { ...takeSnapshot(new Engine({ markets: CRASH_MARKETS })) } as Partial<
        ReturnType<typeof takeSnapshot>
      >;
      delete s2.rulesSince;
      await k.saveSnapshot(0, JSON.stringify(s2));
      crashWorkload(20).forEach((c, i) => k.append(i + 1, encodeCommand(c)));
      k.flush();
      while (k.durableInSeq() < 20) await new Promise((r) => setTimeout(r, 5));
      await k.close();
      const je2 = await JournaledEngine.open({
        markets: CRASH_MARKETS,
        journal: await open("unknown"),
        onOutput: () => {},
      });
      await je2.close({ snapshot: true });
      expect((await snapshotOf("unknown")).rulesSince).to.equal(null); // unknown stays unknown
      expect(await refusal("unknown")).to.be.instanceOf(WholeReplayRulesError);
    });

    it("continues the journal after recovery (inSeq carries on)", async () => {
      const j = await open("c");
      await runJournaled(j, 500);
      const j2 = await open("c");
      const acks: Ack[] = [];
      const je = await JournaledEngine.open({ markets: CRASH_MARKETS, journal: j2, onOutput: (a) => a.toAcks(acks) });
      je.submit({ type: "tick", ts: 10_000_000 });
      await je.close();
      expect(acks.map((a) => a.inSeq)).to.deep.equal([501]);
    });
  });
}

for (const backend of ["file", "redis"] as const)
  describe(`matcher journal (${backend}): SIGKILL at random points loses no acknowledged order`, function () {
    this.timeout(120_000);
    const key = `test:matcher:crash:${process.pid}-${Date.now()}`;
    const where = backend === "file" ? tmp() : `${REDIS}#${key}`;
    const openJournal = (): Promise<Journal> =>
      backend === "file" ? FileJournal.open(where, "crash") : RedisJournal.open(REDIS, key);
    after(async () => {
      if (backend !== "redis") return;
      const r = new Redis(REDIS);
      await r.del(key, key + ":snapshot");
      await r.quit();
    });
    it("every acked command is in the journal, with the same ack and the same events on replay", async () => {
      const acked = new Map<number, string>();
      const child = path.join(__dirname, "fixtures", "crash-child.ts");
      let done = false;
      let kills = 0;
      for (let round = 0; round < 8 && !done; round++) {
        const p = spawn(process.execPath, ["--import", "tsx", child, where, "40000"], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let buf = "";
        p.stdout.on("data", (d: Buffer) => {
          buf += d.toString();
          let nl: number;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line === "DONE") done = true;
            else {
              const [seq, ...rest] = line.split(" ");
              acked.set(Number(seq), rest.join(" "));
            }
          }
        });
        // kill at a random point: after a random number (50..4050) of further acks, so the kill
        // lands mid-run however fast the engine is (8 rounds x <= 4050 acks < the 40000 commands)
        const killAt = acked.size + 50 + Math.floor(Math.random() * 4000);
        const timer = setInterval(() => {
          if (acked.size >= killAt && !done) {
            clearInterval(timer);
            kills++;
            p.kill("SIGKILL");
          }
        }, 2);
        await new Promise((r) => p.on("exit", r));
        clearInterval(timer);
      }
      expect(kills).to.be.greaterThanOrEqual(3);
      expect(acked.size).to.be.greaterThan(100);
      // full replay from the first command (ignoring snapshots) must give the acked answers
      const journal = await openJournal();
      const e = new Engine({ markets: CRASH_MARKETS });
      const replayed = new Map<number, string>();
      await journal.read(0, (inSeq, cmd) => {
        const a = e.process(cmd, inSeq);
        replayed.set(
          inSeq,
          `${a.ok ? 1 : 0} ${a.orderId} ${createHash("sha1").update(JSON.stringify(e.events)).digest("hex")}`,
        );
        e.events = [];
      });
      let checked = 0;
      for (const [seq, line] of acked) {
        expect(replayed.get(seq), `inSeq ${seq}`).to.equal(line);
        checked++;
      }
      expect(checked).to.equal(acked.size);
      // and recovery through the latest snapshot reaches the same state
      const r = await recover(journal, { markets: CRASH_MARKETS });
      expect(JSON.stringify(takeSnapshot(r.engine))).to.equal(JSON.stringify(takeSnapshot(e)));
      await journal.close();
    });
  });
