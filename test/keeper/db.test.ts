import { expect } from "chai";
import { openDb, migrate, loadMigrations, type Db } from "../../keeper/db";
import { DB_TARGETS, PG_URL } from "./helpers";

for (const target of DB_TARGETS) {
  describe(`keeper/db on ${target.name}`, function () {
    let db: Db;
    let schema: string;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ db, schema, cleanup } = await target.open({ migrate: false }));
    });
    afterEach(async () => cleanup());

    it("applies every numbered migration once, in a transaction, and records it", async () => {
      const all = loadMigrations();
      expect(all.map((m) => m.id)).to.deep.equal(all.map((_m, i) => i + 1));
      expect(await migrate(db)).to.deep.equal(all.map((m) => m.id));
      expect(await migrate(db)).to.deep.equal([]);
      const rows = (await db.query<{ id: number }>("SELECT id FROM keeper_migrations ORDER BY id")).rows;
      expect(rows.map((r) => Number(r.id))).to.deep.equal(all.map((m) => m.id));
      const t = await db.query("SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2", [
        schema,
        "tx_attempts",
      ]);
      expect(t.rowCount).to.equal(1);
    });

    it("rolls a failing migration back entirely", async () => {
      const bad = [
        { id: 1, name: "ok", sql: "CREATE TABLE a1 (x int)" },
        { id: 2, name: "bad", sql: "CREATE TABLE a2 (x int); SELECT * FROM no_such_table" },
      ];
      let failed = false;
      try {
        await migrate(db, bad);
      } catch {
        failed = true;
      }
      expect(failed).to.equal(true);
      const t = await db.query(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'a1'",
        [schema],
      );
      expect(t.rowCount).to.equal(0);
    });

    it("refuses a migration whose text changed after it was applied", async () => {
      await migrate(db, [{ id: 1, name: "x", sql: "CREATE TABLE m1 (x int)" }]);
      let msg = "";
      try {
        await migrate(db, [{ id: 1, name: "x", sql: "CREATE TABLE m1 (x bigint)" }]);
      } catch (err) {
        msg = String(err);
      }
      expect(msg).to.match(/changed after it was applied/);
    });

    it("returns int8 and numeric as exact strings, jsonb as objects", async () => {
      const r = await db.query<{ a: string; b: string; c: { x: number } }>(
        "SELECT 9007199254740993::int8 AS a, 115792089237316195423570985008687907853269984665640564039457584007913129639935::numeric AS b, $1::jsonb AS c",
        [JSON.stringify({ x: 1 })],
      );
      expect(r.rows[0].a).to.equal("9007199254740993");
      expect(r.rows[0].b).to.equal("115792089237316195423570985008687907853269984665640564039457584007913129639935");
      expect(r.rows[0].c).to.deep.equal({ x: 1 });
    });

    it("commits a transaction, and rolls it back when the callback throws", async () => {
      await db.exec("CREATE TABLE t (x int)");
      await db.tx(async (q) => {
        await q.query("INSERT INTO t VALUES (1)");
      });
      try {
        await db.tx(async (q) => {
          await q.query("INSERT INTO t VALUES (2)");
          throw new Error("boom");
        });
      } catch {
        /* expected */
      }
      const r = await db.query<{ x: number }>("SELECT x FROM t ORDER BY x");
      expect(r.rows.map((x) => x.x)).to.deep.equal([1]);
    });
  });
}

describe("keeper/db on postgres: concurrent starts", () => {
  it("two processes migrating the same schema at once both succeed, each migration applied once", async () => {
    const { db, schema, cleanup } = await DB_TARGETS[0].open({ migrate: false });
    const other = await openDb({ url: PG_URL, schema });
    try {
      const [a, b] = await Promise.all([migrate(db), migrate(other)]);
      expect([...a, ...b].sort()).to.deep.equal(loadMigrations().map((m) => m.id));
    } finally {
      await other.close();
      await cleanup();
    }
  });
});
