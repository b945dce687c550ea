// The engine behind its journal. submit(cmd) journals and applies the command at once (the
// engine never waits for I/O) but holds its ack and events until the journal group holding the
// command is durable; then they are released, in order, through onOutput. Killing the process
// loses nothing that was released: every released ack's command is in the journal, and replay
// reproduces the same events (recovery = latest snapshot + replay, see snapshot.ts). Acks and
// events are released as the engine wrote them (AckLog, EventLog: no object each); onOutput
// decodes what it needs.
import { Engine, MATCHING_RULES, WARM_BATCH, type EngineOptions } from "../engine/engine";
import type { Ack, Command } from "../engine/types";
import { AckLog } from "../engine/ackLog";
import { EventLog } from "../engine/eventLog";
import type { Journal } from "./journal";
import { recover, takeSnapshot } from "./snapshot";
import { encodeCommand } from "./codec";

export interface JournaledEngineOptions extends EngineOptions {
  journal: Journal;
  /**
   * Receives released outputs: the acks in input order and the events of those commands in order.
   * Both logs are reused once it returns: read (decode) them in the call, do not keep them.
   */
  onOutput: (acks: AckLog, events: EventLog) => void;
  /** Take a snapshot every N commands (0 = only on demand). */
  snapshotEvery?: number;
  /** When to start a group write after a submit: "immediate" (setImmediate, default) or "manual". */
  flushMode?: "immediate" | "manual";
  /** Receives each replayed command's ack and events during recovery (before open resolves; see recover). */
  onReplay?: (ack: Ack, events: EventLog) => void;
  /**
   * Replay a journal tail written under other matching rules anyway (its events may differ from those
   * published). Without it, open() refuses such a tail (RulesMismatchError, nothing applied).
   */
  acceptRulesChange?: boolean;
}

export class JournaledEngine {
  readonly engine: Engine;
  readonly journal: Journal;
  private inSeq: number;
  /** The group being written: its acks and events (the engine writes into the other pair meanwhile). */
  private inflightAcks = new AckLog();
  private inflightEvents = new EventLog();
  private inflightUpTo = -1;
  private scheduled = false;
  private sinceSnapshot = 0;
  private pendingSnapshot: { inSeq: number; data: string } | null = null;
  private snapshotWriting: Promise<void> | null = null;
  private readonly flushNow = () => {
    this.scheduled = false;
    this.startGroup();
  };

  private constructor(
    engine: Engine,
    private readonly opts: JournaledEngineOptions,
  ) {
    this.engine = engine;
    this.journal = opts.journal;
    this.inSeq = engine.inSeq;
    engine.events = [];
    engine.ackLog.clear();
    this.journal.onDurable = (upTo) => this.released(upTo);
  }

  /**
   * Recover from the journal (snapshot + replay), then accept new commands. The commands replayed must
   * have been written under this engine's MATCHING_RULES (else RulesMismatchError, unless
   * acceptRulesChange). When the snapshot has other rules (or there is none), a snapshot is written
   * before open resolves: every command journaled from then on follows a snapshot of the rules it is
   * written under, so a later release can tell whether it may replay them.
   */
  static async open(opts: JournaledEngineOptions): Promise<JournaledEngine> {
    const r = await recover(opts.journal, opts, opts.onReplay, opts.acceptRulesChange ? undefined : MATCHING_RULES);
    const je = new JournaledEngine(r.engine, opts);
    if (r.snapshotRules !== MATCHING_RULES) {
      r.engine.rulesSince = r.engine.inSeq; // what was replayed, if anything, was written under other rules
      je.snapshot();
      await je.drain();
    }
    return je;
  }

  /** Journal and apply one command; returns its inSeq (its ack carries the same number). */
  submit(cmd: Command): number {
    const inSeq = ++this.inSeq;
    const j = this.journal;
    if (j.appendCommand !== undefined) j.appendCommand(inSeq, cmd);
    else j.append(inSeq, encodeCommand(cmd));
    this.engine.apply(cmd, inSeq);
    const every = this.opts.snapshotEvery ?? 0;
    if (every > 0 && ++this.sinceSnapshot >= every) this.snapshot();
    if (!this.scheduled && this.opts.flushMode !== "manual") {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
    return inSeq;
  }

  /**
   * submit() for each of cmds[from, to), in order; returns the last inSeq (the current one when the
   * range is empty). Same journal records, acks, events and snapshots as submit() one by one; the
   * commands are warmed WARM_BATCH at a time first (Engine.warm, as processBatch does): faster on a
   * big book.
   */
  submitBatch(cmds: readonly Command[], from: number, to: number): number {
    for (let i = from; i < to;) {
      const end = Math.min(to, i + WARM_BATCH);
      this.engine.warm(cmds, i, end);
      for (; i < end; i++) this.submit(cmds[i]);
    }
    return this.inSeq;
  }

  /** Start a group write now (manual flush mode, or to cut latency). */
  flush(): void {
    this.startGroup();
  }

  private startGroup(): void {
    const e = this.engine;
    if (this.inflightUpTo >= 0 || e.ackLog.length === 0) return;
    // swap: the engine goes on writing into the (empty) logs of the last released group
    const acks = e.ackLog;
    e.ackLog = this.inflightAcks;
    this.inflightAcks = acks;
    const events = e.eventLog;
    e.eventLog = this.inflightEvents;
    this.inflightEvents = events;
    this.inflightUpTo = this.inSeq;
    this.journal.flush();
  }

  private released(upTo: number): void {
    if (this.inflightUpTo < 0 || upTo < this.inflightUpTo) return;
    this.inflightUpTo = -1;
    this.maybeWriteSnapshot(upTo);
    try {
      this.opts.onOutput(this.inflightAcks, this.inflightEvents);
    } finally {
      this.inflightAcks.clear();
      this.inflightEvents.clear();
    }
    if (this.engine.ackLog.length > 0) this.startGroup();
  }

  /**
   * Snapshot the engine now (at the current inSeq); it is written once the journal is durable
   * up to that inSeq, so a snapshot never holds an unjournaled command.
   */
  snapshot(): void {
    this.sinceSnapshot = 0;
    this.pendingSnapshot = { inSeq: this.inSeq, data: JSON.stringify(takeSnapshot(this.engine)) };
    this.maybeWriteSnapshot(this.journal.durableInSeq());
  }

  private maybeWriteSnapshot(durable: number): void {
    const snap = this.pendingSnapshot;
    if (snap === null || snap.inSeq > durable || this.snapshotWriting !== null) return;
    this.pendingSnapshot = null;
    this.snapshotWriting = this.journal.saveSnapshot(snap.inSeq, snap.data).then(
      () => {
        this.snapshotWriting = null;
        this.maybeWriteSnapshot(this.journal.durableInSeq());
      },
      (err: Error) => {
        this.snapshotWriting = null;
        this.journal.onError(err);
      },
    );
  }

  /** Resolves when every submitted command is durable and released. */
  async drain(): Promise<void> {
    while (
      this.engine.ackLog.length > 0 ||
      this.inflightUpTo >= 0 ||
      this.snapshotWriting !== null ||
      this.pendingSnapshot !== null
    ) {
      if (this.inflightUpTo < 0) this.startGroup();
      this.maybeWriteSnapshot(this.journal.durableInSeq());
      await new Promise((r) => setImmediate(r));
      if (this.snapshotWriting) await this.snapshotWriting;
    }
  }

  /**
   * Wait for every submitted command to be durable and released, then close the journal. With
   * `snapshot`, a snapshot is written first (a graceful stop: the next start, by this release or
   * another, has nothing to replay).
   */
  async close(opts: { snapshot?: boolean } = {}): Promise<void> {
    if (opts.snapshot === true) this.snapshot();
    await this.drain();
    await this.journal.close();
  }
}
