// The chain listener: follows blocks and Exchange logs by block hash into Postgres and the bus.
//
// - Checkpoint: the highest row of chain_blocks (number, hash), written in the same transaction as the
//   block's events, so a crash never leaves events without their checkpoint or the reverse.
// - Near the head it goes block by block: the block's parent hash must equal the stored hash of the
//   block below; logs are fetched by block hash (never by number, which a reorg can change under us).
// - A reorg (parent mismatch, or the checkpoint block no longer canonical) walks the stored blocks down
//   to the common ancestor, deletes every row above it (tables are keyed by block), and publishes a
//   correction listing what was removed, plus inverse balance commands for the matcher.
// - Behind by more than `reorgWindow` blocks it backfills with getLogs over ranges that adapt to the
//   provider: halve on error, double on success, within [1, maxRange].
// - Idempotent: inserts ignore rows already there and publish only what was inserted now.
import { BlockNotFoundError, type Address, type Hex, type PublicClient } from "viem";
import type { Bus } from "../bus";
import type { Db, Queryable } from "../db";
import { silentLogger, type Logger } from "../log";
import { PollLoop } from "../pollLoop";
import { drainOutbox, enqueue, splitLive, type OutboxMessage } from "../outbox";
import { CANDLES, CHAIN_EVENTS, MATCHER_COMMANDS } from "../topics";
import { rebuildCandles } from "./candles";
import { decodeExchangeLogs } from "./decode";
import { keccakBytes } from "../keccak";
import { EVENT_TABLES, rowCommands, rowName, writeLogs, type DecodedLog } from "./events";

export interface ListenerOptions {
  db: Db;
  bus: Bus;
  client: PublicClient;
  exchange: Address;
  /** First block to read (the deployment block). */
  fromBlock: bigint;
  /** Blocks below the head that are followed one by one (and checked by parent hash). Default 12. */
  reorgWindow?: number;
  /** Largest getLogs range. Default 2000. */
  maxRange?: number;
  /** First getLogs range tried. Default 500. */
  initialRange?: number;
  /** Deepest reorg handled before giving up loudly. Default 256. */
  maxReorgDepth?: number;
  pollMs?: number;
  log?: Logger;
  onReorg?: (depth: number, ancestor: bigint) => void;
  /** Head and checkpoint after each step (metrics: lag). */
  onProgress?: (head: bigint, checkpoint: bigint) => void;
  /** Each block committed (metrics: chain-to-bus latency). */
  onBlock?: (number: bigint, timestamp: bigint, events: number) => void;
}

export interface Checkpoint {
  number: bigint;
  hash?: Hex;
}

export interface StepResult {
  head: bigint;
  checkpoint: bigint;
  /** Blocks advanced by this step. */
  advanced: number;
  reorg?: { depth: number; ancestor: bigint };
}

/** Whether a block's logs bloom may hold logs of `address` (false: certainly none). */
export function bloomMayContain(bloom: Hex | null, address: Address): boolean {
  if (!bloom || bloom.length !== 2 + 512) return true;
  const h = keccakBytes(Buffer.from(address.slice(2), "hex"));
  for (let i = 0; i < 6; i += 2) {
    const bit = ((h[i] << 8) | h[i + 1]) & 2047;
    // bit b of the 2048-bit big-endian bloom: byte 255 - (b >> 3), mask 1 << (b & 7)
    const byte = parseInt(bloom.slice(2 + 2 * (255 - (bit >> 3)), 4 + 2 * (255 - (bit >> 3))), 16);
    if ((byte & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

interface FollowedBlock {
  number: bigint | null;
  hash: Hex | null;
  parentHash: Hex;
  timestamp: bigint;
  logsBloom: Hex | null;
}

export class Listener {
  private readonly o: Required<
    Pick<ListenerOptions, "reorgWindow" | "maxRange" | "initialRange" | "maxReorgDepth" | "pollMs">
  > &
    ListenerOptions;
  private readonly log: Logger;
  /** Current adaptive getLogs range. */
  range: number;
  /** The last step advanced: the next one fetches the next block's logs with the block. */
  private following = false;
  /** The checkpoint as last written by this listener (read from the store when unknown). */
  private cp?: Checkpoint;
  private readonly loop: PollLoop;

  constructor(opts: ListenerOptions) {
    this.o = { reorgWindow: 12, maxRange: 2000, initialRange: 500, maxReorgDepth: 256, pollMs: 50, ...opts };
    this.range = Math.min(this.o.initialRange, this.o.maxRange);
    this.log = opts.log ?? silentLogger;
    this.loop = new PollLoop("listener", this.o.pollMs, this.log, async () => {
      const r = await this.step();
      return r.advanced > 0 || r.reorg !== undefined;
    });
  }

  async checkpoint(): Promise<Checkpoint> {
    const r = await this.o.db.query<{ number: string; hash: Hex }>(
      "SELECT number, hash FROM chain_blocks ORDER BY number DESC LIMIT 1",
    );
    if (r.rows[0]) return { number: BigInt(r.rows[0].number), hash: r.rows[0].hash };
    return { number: this.o.fromBlock - 1n };
  }

  /**
   * One step: reorg check, then one block (near the head) or one getLogs range (behind). Near the head the
   * head and the next block (and, while blocks keep coming, its logs) are asked for together, and a next block whose parent is the checkpoint is
   * the reorg check (the checkpoint is still canonical); only when there is no next block is the
   * checkpoint itself checked.
   */
  async step(): Promise<StepResult> {
    try {
      return await this.stepInner();
    } catch (err) {
      this.cp = undefined; // the store is the truth: read it again
      throw err;
    }
  }

  private async stepInner(): Promise<StepResult> {
    const r = await this.stepOnce();
    this.following = r.advanced > 0;
    return r;
  }

  private async stepOnce(): Promise<StepResult> {
    const cp = (this.cp ??= await this.checkpoint());
    // the head, the next block and its logs by number, in one round trip (the logs are used only when
    // they provably belong to that block: see follow)
    const [head, next, nextLogs] = await Promise.all([
      this.o.client.getBlockNumber({ cacheTime: 0 }),
      this.o.client.getBlock({ blockNumber: cp.number + 1n }).catch((err) => {
        if (err instanceof BlockNotFoundError) return undefined;
        throw err;
      }),
      // the logs too only while blocks keep coming (the last step advanced): an idle poll stays cheap
      this.following
        ? this.o.client
            .getLogs({ address: this.o.exchange, fromBlock: cp.number + 1n, toBlock: cp.number + 1n })
            .catch(() => undefined)
        : undefined,
    ]);
    this.o.onProgress?.(head, cp.number);
    if (next && head - cp.number <= BigInt(this.o.reorgWindow)) {
      // (no stored block yet: the first one has nothing to follow on)
      if (cp.hash && next.parentHash !== cp.hash) return this.rollback(cp, head);
      if (head > next.number!) return this.followSeveral(next, head);
      return this.follow(next, head, nextLogs);
    }
    if (cp.hash && !(next && next.parentHash === cp.hash)) {
      const canon = await this.o.client.getBlock({ blockNumber: cp.number }).catch(() => undefined);
      if (!canon || canon.hash !== cp.hash) return this.rollback(cp, head);
    }
    if (head <= cp.number) return { head, checkpoint: cp.number, advanced: 0 };
    if (head - cp.number > BigInt(this.o.reorgWindow)) return this.backfill(cp, head);
    const block = next ?? (await this.o.client.getBlock({ blockNumber: cp.number + 1n }));
    if (cp.hash && block.parentHash !== cp.hash) return this.rollback(cp, head);
    return this.follow(block, head);
  }

  /** Logs fetched by number are a block's when each carries its hash, or none and its bloom rules the Exchange out. */
  private logsOf(block: FollowedBlock, byNumber: readonly { blockHash: Hex | null }[] | undefined): boolean {
    return (
      byNumber !== undefined &&
      (byNumber.length > 0
        ? byNumber.every((l) => l.blockHash === block.hash)
        : !bloomMayContain(block.logsBloom, this.o.exchange))
    );
  }

  /** The next block near the head: its logs (by number when provably its own, else by hash), stored with its checkpoint row. */
  private async follow(
    block: FollowedBlock,
    head: bigint,
    byNumber?: readonly { blockHash: Hex | null }[],
  ): Promise<StepResult> {
    const raw = this.logsOf(block, byNumber)
      ? byNumber!
      : await this.o.client.getLogs({ address: this.o.exchange, blockHash: block.hash! });
    await this.commitBlocks([{ block, raw }]);
    return { head: head > block.number! ? head : block.number!, checkpoint: block.number!, advanced: 1 };
  }

  /**
   * Several blocks behind (within the reorg window): up to 16 at once, fetched together with their logs
   * by number, each block's parent the one before (the first's: the checkpoint, already checked), stored
   * in one transaction and published once, so a listener slower than one block per block catches up
   * instead of falling further behind. Anything that does not line up goes one block at a time.
   */
  private async followSeveral(next: FollowedBlock, head: bigint): Promise<StepResult> {
    let last = head;
    if (last - next.number! > 15n) last = next.number! + 15n;
    const numbers: bigint[] = [];
    for (let n = next.number! + 1n; n <= last; n++) numbers.push(n);
    const [rest, logs] = await Promise.all([
      Promise.all(numbers.map((n) => this.o.client.getBlock({ blockNumber: n }).catch(() => undefined))),
      this.o.client
        .getLogs({ address: this.o.exchange, fromBlock: next.number!, toBlock: last })
        .catch(() => undefined),
    ]);
    const blocks: FollowedBlock[] = [next];
    for (const b of rest) {
      if (!b || b.parentHash !== blocks[blocks.length - 1].hash) break;
      blocks.push(b);
    }
    if (blocks.length === 1 || !logs) return this.follow(next, head);
    const byBlock = new Map<bigint, typeof logs>();
    for (const l of logs) {
      const list = byBlock.get(l.blockNumber!) ?? [];
      list.push(l);
      byBlock.set(l.blockNumber!, list);
    }
    const out: { block: FollowedBlock; raw: readonly unknown[] }[] = [];
    for (const block of blocks) {
      const own = byBlock.get(block.number!) ?? [];
      out.push({
        block,
        raw: this.logsOf(block, own)
          ? own
          : await this.o.client.getLogs({ address: this.o.exchange, blockHash: block.hash! }),
      });
    }
    await this.commitBlocks(out);
    const top = blocks[blocks.length - 1].number!;
    return { head: head > top ? head : top, checkpoint: top, advanced: blocks.length };
  }

  /** Consecutive blocks and their logs, with their checkpoint rows, in one transaction; then published. */
  private async commitBlocks(list: { block: FollowedBlock; raw: readonly unknown[] }[]): Promise<void> {
    this.cp = undefined;
    const logs: DecodedLog[] = [];
    const blockTimes = new Map<bigint, number>();
    for (const { block, raw } of list) {
      logs.push(...this.decode(raw).filter((l) => l.blockHash === block.hash));
      blockTimes.set(block.number!, Number(block.timestamp) * 1000);
    }
    const { inserted, live } = await this.o.db.tx(async (q) => {
      const msgs = await writeLogs(q, logs, { blockTimes });
      const params: unknown[] = [];
      const rows = list.map(({ block }, i) => {
        params.push(block.number!.toString(), block.hash, block.parentHash);
        return `($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`;
      });
      await q.query(
        `INSERT INTO chain_blocks (number, hash, parent_hash) VALUES ${rows.join(", ")}
         ON CONFLICT (number) DO UPDATE SET hash = EXCLUDED.hash, parent_hash = EXCLUDED.parent_hash`,
        params,
      );
      return this.enqueueDurable(q, msgs);
    });
    const top = list[list.length - 1].block;
    this.cp = { number: top.number!, hash: top.hash! };
    await this.pushLive(live);
    if (inserted) await this.publish();
    for (const { block, raw } of list) this.o.onBlock?.(block.number!, block.timestamp, raw.length);
  }

  /** Steps until the checkpoint reaches the head seen at the start. */
  async catchUp(): Promise<StepResult> {
    for (;;) {
      const r = await this.step();
      if (r.advanced === 0 && !r.reorg) return r;
    }
  }

  /** Writes one block's logs and its checkpoint row (public for the idempotency test). */
  async commitBlock(
    number: bigint,
    hash: Hex,
    parentHash: Hex | null,
    raw: readonly unknown[],
    timestamp?: bigint,
  ): Promise<number> {
    this.cp = undefined;
    const logs = this.decode(raw).filter((l) => l.blockHash === hash);
    if (timestamp === undefined && logs.some((l) => l.eventName === "FillSettled"))
      timestamp = (await this.o.client.getBlock({ blockHash: hash })).timestamp;
    const blockTimes = new Map(timestamp === undefined ? [] : [[number, Number(timestamp) * 1000]]);
    const { inserted, live } = await this.o.db.tx(async (q) => {
      const msgs = await writeLogs(q, logs, { blockTimes });
      await q.query(
        `INSERT INTO chain_blocks (number, hash, parent_hash) VALUES ($1, $2, $3)
         ON CONFLICT (number) DO UPDATE SET hash = EXCLUDED.hash, parent_hash = EXCLUDED.parent_hash`,
        [number.toString(), hash, parentHash],
      );
      return this.enqueueDurable(q, msgs);
    });
    await this.pushLive(live);
    if (inserted) await this.publish();
    return inserted;
  }

  private decode(raw: readonly unknown[]): DecodedLog[] {
    return decodeExchangeLogs(raw);
  }

  /** Stores the stream messages in the outbox; returns the channel messages (pushed after the commit) and how many messages the logs made. */
  private async enqueueDurable(
    q: Queryable,
    msgs: readonly OutboxMessage[],
  ): Promise<{ inserted: number; live: OutboxMessage[] }> {
    const { durable, live } = splitLive(msgs);
    await enqueue(q, durable);
    return { inserted: msgs.length, live };
  }

  /** The live feed of committed blocks (see splitLive): a failed push is logged, not retried. */
  private async pushLive(live: readonly OutboxMessage[]): Promise<void> {
    try {
      // sent together (one connection keeps their order), not one round trip each
      await Promise.all(live.map((m) => this.o.bus.publish(m.topic, m.payload)));
    } catch (err) {
      this.log.warn("live push to the bus failed (the streams have the events)", { err: String(err) });
    }
  }

  private async publish(): Promise<void> {
    try {
      await drainOutbox(this.o.db, this.o.bus);
    } catch (err) {
      this.log.warn("publishing to the bus failed; will retry", { err: String(err) });
    }
  }

  private async backfill(cp: Checkpoint, head: bigint): Promise<StepResult> {
    const from = cp.number + 1n;
    const safeTop = head - BigInt(this.o.reorgWindow);
    for (;;) {
      let to = from + BigInt(this.range) - 1n;
      if (to > safeTop) to = safeTop;
      let raw: unknown[];
      try {
        raw = await this.o.client.getLogs({ address: this.o.exchange, fromBlock: from, toBlock: to });
      } catch (err) {
        if (this.range === 1) throw err;
        this.range = Math.max(1, Math.floor(this.range / 2));
        this.log.debug("getLogs failed; halving the range", { range: this.range, err: String(err).slice(0, 200) });
        continue;
      }
      const end = await this.o.client.getBlock({ blockNumber: to });
      const logs = this.decode(raw);
      const blockTimes = await this.blockTimes(logs);
      const { live } = await this.o.db.tx(async (q) => {
        const msgs = await writeLogs(q, logs, { blockTimes });
        // the blocks that carried logs (for the reorg walk) and the range end (the checkpoint)
        const seen = new Map<bigint, Hex>();
        for (const l of logs) seen.set(l.blockNumber, l.blockHash);
        seen.set(to, end.hash!);
        const params: unknown[] = [];
        const rows: string[] = [];
        for (const [n, h] of seen) {
          rows.push(`($${params.length + 1}, $${params.length + 2}, $${params.length + 3})`);
          params.push(n.toString(), h, n === to ? end.parentHash : null);
        }
        await q.query(
          `INSERT INTO chain_blocks (number, hash, parent_hash) VALUES ${rows.join(", ")}
           ON CONFLICT (number) DO UPDATE SET hash = EXCLUDED.hash`,
          params,
        );
        return this.enqueueDurable(q, msgs);
      });
      await this.pushLive(live);
      await this.publish();
      this.cp = { number: to, hash: end.hash! };
      this.o.onBlock?.(to, end.timestamp, logs.length);
      this.range = Math.min(this.o.maxRange, this.range * 2);
      return { head, checkpoint: to, advanced: Number(to - cp.number) };
    }
  }

  /** Timestamps (ms) of the blocks that carry fills or funding updates, fetched by hash, a few at a time. */
  private async blockTimes(logs: readonly DecodedLog[]): Promise<Map<bigint, number>> {
    const want = new Map<bigint, Hex>();
    // fills (candles) and funding updates (the gateway's next funding time)
    for (const l of logs)
      if (l.eventName === "FillSettled" || l.eventName === "FundingUpdated") want.set(l.blockNumber, l.blockHash);
    const out = new Map<bigint, number>();
    const list = [...want];
    for (let i = 0; i < list.length; i += 8) {
      await Promise.all(
        list.slice(i, i + 8).map(async ([n, h]) => {
          const b = await this.o.client.getBlock({ blockHash: h });
          out.set(n, Number(b.timestamp) * 1000);
        }),
      );
    }
    return out;
  }

  private async rollback(cp: Checkpoint, head: bigint): Promise<StepResult> {
    const stored = await this.o.db.query<{ number: string; hash: Hex }>(
      "SELECT number, hash FROM chain_blocks WHERE number <= $1 ORDER BY number DESC LIMIT $2",
      [cp.number.toString(), this.o.maxReorgDepth + 1],
    );
    let ancestor = this.o.fromBlock - 1n;
    let found = false;
    for (const row of stored.rows) {
      const n = BigInt(row.number);
      const canon = await this.o.client.getBlock({ blockNumber: n }).catch(() => undefined);
      if (canon && canon.hash === row.hash) {
        ancestor = n;
        found = true;
        break;
      }
    }
    if (!found && stored.rows.length > this.o.maxReorgDepth)
      throw new Error(`listener: reorg deeper than ${this.o.maxReorgDepth} blocks below ${cp.number}`);
    const depth = Number(cp.number - ancestor);
    await this.o.db.tx(async (q) => {
      const msgs = await this.removeAbove(q, ancestor);
      await q.query("DELETE FROM chain_blocks WHERE number > $1", [ancestor.toString()]);
      await q.query("INSERT INTO listener_reorgs (old_tip, ancestor, depth) VALUES ($1, $2, $3)", [
        cp.number.toString(),
        ancestor.toString(),
        depth,
      ]);
      await enqueue(q, msgs);
    });
    this.cp = undefined;
    this.log.warn("reorg: rolled back to the common ancestor", { oldTip: cp.number, ancestor, depth });
    this.o.onReorg?.(depth, ancestor);
    await this.publish();
    return { head, checkpoint: ancestor, advanced: 0, reorg: { depth, ancestor } };
  }

  /** Deletes every event row above `ancestor`; returns the correction messages. */
  private async removeAbove(q: Queryable, ancestor: bigint): Promise<OutboxMessage[]> {
    const removed: { name: string; blockNumber: string; blockHash: Hex; logIndex: number; txHash: Hex }[] = [];
    const cmds: OutboxMessage[] = [];
    const removedFills: { market: number; time: number }[] = [];
    // each row's undo follows from the row itself (computed columns were stored with it)
    for (const table of EVENT_TABLES) {
      const r = await q.query<
        Record<string, unknown> & { block_number: string; block_hash: Hex; log_index: number; tx_hash: Hex }
      >(`DELETE FROM ${table} WHERE block_number > $1 RETURNING *`, [ancestor.toString()]);
      for (const row of r.rows) {
        removed.push({
          name: rowName(table, row),
          blockNumber: row.block_number,
          blockHash: row.block_hash,
          logIndex: Number(row.log_index),
          txHash: row.tx_hash,
        });
        if (table === "ev_fills" && row.block_time !== null && row.block_time !== undefined)
          removedFills.push({ market: Number(row.market), time: Number(row.block_time) });
        for (const c of await rowCommands(q, table, row, -1, `${row.block_hash}:${row.log_index}:reorg`))
          cmds.push({ kind: "stream", topic: MATCHER_COMMANDS, payload: c });
      }
    }
    removed.sort((a, b) =>
      BigInt(a.blockNumber) === BigInt(b.blockNumber)
        ? a.logIndex - b.logIndex
        : BigInt(a.blockNumber) < BigInt(b.blockNumber)
          ? -1
          : 1,
    );
    const correction = { type: "reorg", ancestor: ancestor.toString(), removed };
    const candles = (await rebuildCandles(q, removedFills)).map((c): OutboxMessage => ({
      kind: "channel",
      topic: CANDLES,
      payload: c,
    }));
    return [
      { kind: "stream", topic: CHAIN_EVENTS, payload: correction },
      { kind: "channel", topic: CHAIN_EVENTS, payload: correction },
      ...cmds,
      ...candles,
    ];
  }

  /** Follows the chain until stop(): a step that advanced or rolled back is followed by the next at once. */
  start(): void {
    this.loop.start(() => this.publish()); // first whatever a previous run left in the outbox
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }
}

export { EVENT_TABLES };
