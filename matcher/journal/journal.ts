// The durable command journal. Records are (inSeq, command); appends are grouped: the journal
// writes everything appended so far in one durable write (group commit) while the engine keeps
// going, and reports the highest inSeq that is durable. Snapshots live beside the log.
import type { Command } from "../engine/types";
import { FileJournal } from "./file";
import { RedisJournal } from "./redis";

export interface Journal {
  /** Buffer one record; never blocks. `line` is encodeCommand(cmd) (codec.ts), without newlines. */
  append(inSeq: number, line: string): void;
  /**
   * Optional: buffer one command, same record as append(inSeq, encodeCommand(cmd)) but encoded
   * without intermediate strings. JournaledEngine uses it when present.
   */
  appendCommand?(inSeq: number, cmd: Command): void;
  /**
   * Start a durable write of everything appended so far unless one is in flight (then the
   * next group starts when it completes). `onDurable(upTo)` is called as groups complete.
   */
  flush(): void;
  onDurable: (upToInSeq: number) => void;
  onError: (err: Error) => void;
  /** Highest inSeq known durable. */
  durableInSeq(): number;
  /** Replay records with inSeq > from, in order. Returns the last inSeq read. */
  read(from: number, fn: (inSeq: number, cmd: Command) => void): Promise<number>;
  saveSnapshot(inSeq: number, data: string): Promise<void>;
  /** The latest snapshot (JSON text), or null. */
  loadSnapshot(): Promise<string | null>;
  close(): Promise<void>;
}

/**
 * Redis Streams when REDIS_URL is set (stream key `matcher:<name>`), else an append-only file
 * in JOURNAL_DIR (default .data/journal) named <name>.log.
 */
export async function openJournal(name: string, env: NodeJS.ProcessEnv = process.env): Promise<Journal> {
  if (env.REDIS_URL) return RedisJournal.open(env.REDIS_URL, `matcher:${name}`);
  const dir = env.JOURNAL_DIR ?? ".data/journal";
  return FileJournal.open(dir, name);
}

export function noop(): void {}
