// Transactional outbox: rows written in the same database transaction as the state they describe,
// then published to the bus and deleted. Kinds: 'stream', 'channel', 'both' (the same message
// appended to the stream, then published on the channel, of its topic), and 'streams' (an array of one
// topic's stream messages, appended in order: a block's 400 fills are one row, not 400). At-least-once: a crash between publishing and deleting
// repeats a message, so every message carries an identity (block hash + log index, trade id, ...).
import type { Bus } from "./bus";
import type { Db, Queryable } from "./db";

export interface OutboxMessage {
  kind: "stream" | "channel";
  topic: string;
  payload: unknown;
}

const bigintAsString = (_k: string, x: unknown) => (typeof x === "bigint" ? x.toString() : x);
/** JSON with bigints as strings; the replacer (called for every value) only when there is a bigint to replace. */
function json(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return JSON.stringify(v, bigintAsString);
  }
}

/**
 * A block's messages split for the listener: the stream messages are the durable record (outbox, in the
 * block's transaction); the channel messages are the live feed, published from memory as soon as that
 * transaction commits, without a round trip through the outbox. Pub/sub never reached a subscriber that
 * was away anyway; a crash between the commit and the push loses only that push (the streams and the
 * tables have the events).
 */
export function splitLive(msgs: readonly OutboxMessage[]): { durable: OutboxMessage[]; live: OutboxMessage[] } {
  const durable: OutboxMessage[] = [];
  const live: OutboxMessage[] = [];
  for (const m of msgs) (m.kind === "channel" ? live : durable).push(m);
  return { durable, live };
}

export async function enqueue(q: Queryable, msgs: readonly OutboxMessage[]): Promise<void> {
  if (msgs.length === 0) return;
  // a stream message next to the same payload (the same object) on the channel of its topic is one row,
  // kind 'both': stored and read once, appended then published
  // a topic's stream messages are gathered into one row at the place of the first, until a 'both' or
  // 'channel' message of that topic closes the group: the order per topic stays the enqueue order
  const rows: [kind: string, topic: string, payload: unknown][] = [];
  const open = new Map<string, unknown[]>();
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i];
    const n = msgs[i + 1];
    if (n && n.topic === m.topic && n.payload === m.payload && m.kind !== n.kind) {
      open.delete(m.topic);
      rows.push(["both", m.topic, m.payload]);
      i++;
    } else if (m.kind === "stream") {
      const group = open.get(m.topic);
      if (group) group.push(m.payload);
      else {
        const g = [m.payload];
        open.set(m.topic, g);
        rows.push(["streams", m.topic, g]);
      }
    } else {
      open.delete(m.topic);
      rows.push([m.kind, m.topic, m.payload]);
    }
  }
  for (const r of rows)
    if (r[0] === "streams" && (r[2] as unknown[]).length === 1) {
      r[0] = "stream";
      r[2] = (r[2] as unknown[])[0];
    }
  // one statement, three array parameters (unnest keeps the ids in the rows' order)
  await q.query(
    `INSERT INTO outbox (kind, topic, payload)
     SELECT kind, topic, payload FROM unnest($1::text[], $2::text[], $3::json[]) WITH ORDINALITY AS m(kind, topic, payload, i)
     ORDER BY i`,
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => json(r[2]))],
  );
}

/**
 * Publishes everything in the outbox in id order; returns how many messages went out. Rows are locked
 * while they are published (FOR UPDATE SKIP LOCKED), so concurrent drainers never publish a row twice.
 */
export async function drainOutbox(db: Db, bus: Bus, batch = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await db.tx(async (q) => {
      const r = await q.query<{
        id: string;
        kind: "stream" | "streams" | "channel" | "both";
        topic: string;
        payload: unknown;
      }>("SELECT id, kind, topic, payload FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", [batch]);
      if (r.rows.length === 0) return 0;
      // keep order: consecutive stream rows of one topic go in one appendMany
      let i = 0;
      while (i < r.rows.length) {
        const row = r.rows[i];
        if (row.kind === "channel") {
          await bus.publish(row.topic, row.payload);
          i++;
          continue;
        }
        // a run of one topic's stream rows goes in one appendMany; then the channel copies of its 'both' rows
        let j = i;
        while (j < r.rows.length && r.rows[j].kind !== "channel" && r.rows[j].topic === row.topic) j++;
        const run = r.rows.slice(i, j);
        await bus.appendMany(
          row.topic,
          run.flatMap((x) => (x.kind === "streams" ? (x.payload as unknown[]) : [x.payload])),
        );
        for (const x of run) if (x.kind === "both") await bus.publish(x.topic, x.payload);
        i = j;
      }
      await q.query("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r.rows.map((x) => x.id)]);
      let msgs = 0;
      for (const x of r.rows) msgs += x.kind === "streams" ? (x.payload as unknown[]).length : 1;
      total += msgs;
      return r.rows.length;
    });
    // a short read emptied what was there: no second transaction just to find nothing
    if (rows < batch) return total;
  }
}
