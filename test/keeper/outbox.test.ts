// The transactional outbox: order kept per topic (ids follow the enqueue order), a stream message and its
// channel copy stored once (kind both) and published as both, payloads with quotes, backslashes and
// unicode intact.
import { expect } from "chai";
import { MemoryBus } from "../../keeper/bus";
import type { Db } from "../../keeper/db";
import { drainOutbox, enqueue, type OutboxMessage } from "../../keeper/outbox";
import { DB_TARGETS } from "./helpers";

for (const target of DB_TARGETS) {
  describe(`keeper/outbox on ${target.name}`, () => {
    let db: Db;
    let cleanup: () => Promise<void>;
    beforeEach(async () => ({ db, cleanup } = await target.open()));
    afterEach(async () => cleanup());

    it("publishes in enqueue order per topic, both kinds of a paired message, payloads intact", async () => {
      const bus = new MemoryBus();
      const msgs: OutboxMessage[] = [];
      for (let i = 0; i < 1500; i++) {
        const p = { i, s: `q"uo\\te ${"é".repeat(i % 3)} {x}`, big: (10n ** 30n + BigInt(i)).toString() };
        if (i % 3 === 0)
          msgs.push({ kind: "stream", topic: "a", payload: p }, { kind: "channel", topic: "a", payload: p });
        else if (i % 3 === 1) msgs.push({ kind: "stream", topic: "b", payload: p });
        else msgs.push({ kind: "channel", topic: "c", payload: { ...p } });
      }
      const got: Record<string, unknown[]> = { a: [], c: [] };
      await bus.subscribe("a", (m) => got.a.push(m));
      await bus.subscribe("c", (m) => got.c.push(m));
      await db.tx((q) => enqueue(q, msgs));
      const kinds = await db.query<{ kind: string; n: number }>(
        "SELECT kind, count(*)::int AS n FROM outbox GROUP BY kind ORDER BY kind",
      );
      // topic b's stream messages are never interrupted by a channel message of b: one 'streams' row
      expect(kinds.rows).to.deep.equal([
        { kind: "both", n: 500 },
        { kind: "channel", n: 500 },
        { kind: "streams", n: 1 },
      ]);
      expect(await drainOutbox(db, bus, 400)).to.equal(1500);
      const want = (topic: string, kind: string) =>
        msgs.filter((m) => m.topic === topic && m.kind === kind).map((m) => JSON.parse(JSON.stringify(m.payload)));
      expect((await bus.read("a", "0", { count: 10_000 })).map((e) => e.data)).to.deep.equal(want("a", "stream"));
      expect((await bus.read("b", "0", { count: 10_000 })).map((e) => e.data)).to.deep.equal(want("b", "stream"));
      expect(got.a).to.deep.equal(want("a", "channel"));
      expect(got.c).to.deep.equal(want("c", "channel"));
      expect((await db.query("SELECT 1 FROM outbox")).rowCount).to.equal(0);
      await bus.close();
    });

    it("a topic's stream messages share a row until a channel or paired message of that topic; per-topic order holds, across drains", async () => {
      const bus = new MemoryBus();
      const msgs: OutboxMessage[] = [];
      const live: Record<string, unknown[]> = { x: [] };
      for (let i = 0; i < 300; i++) {
        msgs.push({ kind: "stream", topic: "x", payload: { i } }, { kind: "stream", topic: "y", payload: { i } });
        if (i % 50 === 49) msgs.push({ kind: "channel", topic: "x", payload: { live: i } });
        if (i % 70 === 69) {
          const p = { both: i };
          msgs.push({ kind: "stream", topic: "x", payload: p }, { kind: "channel", topic: "x", payload: p });
        }
      }
      await bus.subscribe("x", (m) => live.x.push(m));
      await db.tx((q) => enqueue(q, msgs));
      const rows = await db.query<{ kind: string; topic: string }>("SELECT kind, topic FROM outbox ORDER BY id");
      // y: one row; x: a group between each of its channel / paired messages
      expect(rows.rows.filter((r) => r.topic === "y")).to.deep.equal([{ kind: "streams", topic: "y" }]);
      expect(rows.rows.filter((r) => r.topic === "x" && r.kind === "streams").length).to.equal(1 + 5 + 4);
      expect(await drainOutbox(db, bus, 3)).to.equal(msgs.length - 4); // the 4 pairs are one message each
      const want = (topic: string, kind: string) =>
        msgs.filter((m) => m.topic === topic && m.kind === kind).map((m) => m.payload);
      expect((await bus.read("x", "0", { count: 10_000 })).map((e) => e.data)).to.deep.equal(want("x", "stream"));
      expect((await bus.read("y", "0", { count: 10_000 })).map((e) => e.data)).to.deep.equal(want("y", "stream"));
      expect(live.x).to.deep.equal(want("x", "channel"));
      expect((await db.query("SELECT 1 FROM outbox")).rowCount).to.equal(0);
      await bus.close();
    });
  });
}
