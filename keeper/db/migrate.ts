// Numbered SQL migrations (keeper/db/migrations/NNN_name.sql), applied at start in one transaction
// under an advisory lock, recorded in keeper_migrations. Applied files must never change: a changed
// checksum stops the start.
import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import type { Db } from "./store";

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const MIGRATIONS_DIR = path.join(__dirname, "migrations");

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const out: Migration[] = [];
  for (const file of fs.readdirSync(dir).sort()) {
    const m = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!m) continue;
    out.push({ id: Number(m[1]), name: m[2], sql: fs.readFileSync(path.join(dir, file), "utf8") });
  }
  for (let i = 0; i < out.length; i++) {
    if (out[i].id !== i + 1) throw new Error(`migrations: expected number ${i + 1}, found ${out[i].id}_${out[i].name}`);
  }
  return out;
}

const checksum = (sql: string) => createHash("sha256").update(sql).digest("hex");

/** Applies the migrations not yet applied; returns the ids applied now. */
export async function migrate(db: Db, migrations: Migration[] = loadMigrations()): Promise<number[]> {
  return db.tx(async (q) => {
    // Two keepers starting at once: the second waits, then sees everything applied.
    await q.query("SELECT pg_advisory_xact_lock(727001, hashtext(current_schema()))");
    await q.exec(`CREATE TABLE IF NOT EXISTS keeper_migrations (
      id integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Map<number, string>();
    for (const r of (await q.query<{ id: number; checksum: string }>("SELECT id, checksum FROM keeper_migrations"))
      .rows)
      done.set(Number(r.id), r.checksum);
    const applied: number[] = [];
    for (const m of migrations) {
      const sum = checksum(m.sql);
      const prev = done.get(m.id);
      if (prev !== undefined) {
        if (prev !== sum) throw new Error(`migration ${m.id}_${m.name} changed after it was applied`);
        continue;
      }
      await q.exec(m.sql);
      await q.query("INSERT INTO keeper_migrations (id, name, checksum) VALUES ($1, $2, $3)", [m.id, m.name, sum]);
      applied.push(m.id);
    }
    return applied;
  });
}
