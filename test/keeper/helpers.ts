// Shared test helpers for the keeper: real Postgres and PGlite stores in unique schemas, real Redis
// with unique key prefixes, a throwaway Hardhat node.
import { randomBytes } from "node:crypto";
import { openDb, dropSchema, migrate, type Db } from "../../keeper/db";

export const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export const uniqueName = (tag: string) => `k_${tag}_${process.pid}_${randomBytes(4).toString("hex")}`;

export interface DbTarget {
  name: "postgres" | "pglite";
  /** Opens a fresh, migrated store; cleanup drops it. */
  open(opts?: { migrate?: boolean }): Promise<{ db: Db; schema: string; cleanup: () => Promise<void> }>;
}

export const DB_TARGETS: DbTarget[] = [
  {
    name: "postgres",
    async open(opts) {
      const schema = uniqueName("db");
      const db = await openDb({ url: PG_URL, schema, poolSize: 4 });
      if (opts?.migrate !== false) await migrate(db);
      return {
        db,
        schema,
        cleanup: async () => {
          await db.close().catch(() => {});
          await dropSchema(PG_URL, schema);
        },
      };
    },
  },
  {
    name: "pglite",
    async open(opts) {
      const schema = uniqueName("db");
      const db = await openDb({ schema });
      if (opts?.migrate !== false) await migrate(db);
      return { db, schema, cleanup: () => db.close() };
    },
  },
];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function until<T>(fn: () => Promise<T> | T, timeoutMs = 15_000, stepMs = 25): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`until: timed out${last ? `: ${String(last)}` : ""}`);
    await sleep(stepMs);
  }
}
