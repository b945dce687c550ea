// A small SQL store with two adapters behind one interface: a pg Pool (DATABASE_URL) and PGlite
// (Postgres in WASM: a data directory, or memory). The same SQL and the same migrations run on both.
//
// Value conventions, identical on both adapters: int8 and numeric come back as strings (money and
// block numbers never pass through a float), jsonb as parsed JSON, timestamptz as Date.
import type { Pool, PoolClient } from "pg";

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** Runs a script of several statements (no parameters). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: "pg" | "pglite";
  /** Runs `fn` in one transaction (BEGIN .. COMMIT, ROLLBACK on throw). */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenDbOptions {
  /** postgres:// URL; when absent PGlite is used. */
  url?: string;
  /** PGlite data directory; absent = in memory. */
  dataDir?: string;
  /** Schema to create (if missing) and use as search_path; default: the server's default. */
  schema?: string;
  /** pg pool size. */
  poolSize?: number;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

function checkSchema(schema: string | undefined): void {
  if (schema !== undefined && !IDENT.test(schema)) throw new Error(`db: invalid schema name ${JSON.stringify(schema)}`);
}

const asText = (v: string) => v;

class PgDb implements Db {
  readonly kind = "pg" as const;
  constructor(private readonly pool: Pool) {}

  async query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    const r = await this.pool.query(sql, params as unknown[]);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    const client: PoolClient = await this.pool.connect();
    const q: Queryable = {
      query: async <R>(sql: string, params?: readonly unknown[]) => {
        const r = await client.query(sql, params as unknown[]);
        return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
      },
      exec: async (sql: string) => {
        await client.query(sql);
      },
    };
    try {
      await client.query("BEGIN");
      const out = await fn(q);
      await client.query("COMMIT");
      return out;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

// PGlite is one connection: a transaction must not interleave with other queries, so all access goes
// through one queue (PGlite's own transaction() holds its lock for the callback's duration).
class PgliteDb implements Db {
  readonly kind = "pglite" as const;
  constructor(private readonly db: import("@electric-sql/pglite").PGlite) {}

  async query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    const r = await this.db.query<T>(sql, params as unknown[]);
    return { rows: r.rows, rowCount: r.rows.length || (r.affectedRows ?? 0) };
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) =>
      fn({
        query: async <R>(sql: string, params?: readonly unknown[]) => {
          const r = await t.query<R>(sql, params as unknown[]);
          return { rows: r.rows, rowCount: r.rows.length || (r.affectedRows ?? 0) };
        },
        exec: async (sql: string) => {
          await t.exec(sql);
        },
      }),
    );
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** Opens the store: Postgres when `url` is given, else PGlite. Creates and selects `schema` if given. */
export async function openDb(opts: OpenDbOptions = {}): Promise<Db> {
  checkSchema(opts.schema);
  if (opts.url) {
    const pg = await import("pg");
    const Pool = pg.default?.Pool ?? pg.Pool;
    const types = pg.default?.types ?? pg.types;
    const parsers = {
      getTypeParser: (oid: number, format?: string) =>
        oid === 20 || oid === 1700 ? asText : types.getTypeParser(oid, format as never),
    };
    if (opts.schema) {
      const boot = new Pool({ connectionString: opts.url, max: 1 });
      try {
        await boot.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
      } finally {
        await boot.end();
      }
    }
    const pool = new Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      types: parsers as never,
      options: opts.schema ? `-c search_path=${opts.schema}` : undefined,
    });
    // An idle client's error (server restart) must not crash the process; the pool replaces it.
    pool.on("error", () => {});
    return new PgDb(pool);
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const db = new PGlite({ dataDir: opts.dataDir, parsers: { 20: asText, 1700: asText } });
  await db.waitReady;
  if (opts.schema) await db.exec(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}; SET search_path = ${opts.schema}`);
  return new PgliteDb(db);
}

/** Drops a schema (tests). Postgres only; PGlite in memory just closes. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  checkSchema(schema);
  const pg = await import("pg");
  const Pool = pg.default?.Pool ?? pg.Pool;
  const pool = new Pool({ connectionString: url, max: 1 });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await pool.end();
  }
}
