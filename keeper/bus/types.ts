// The keeper's message bus: pub/sub channels (fire and forget, for live pushes) and durable streams
// (append-only, read by position; each reader keeps its own position, e.g. in Postgres).

export interface StreamEntry<T = unknown> {
  /** Position in the stream: "<ms>-<seq>" (Redis) or "<n>-0" (in-process). Compare with compareIds. */
  id: string;
  data: T;
}

export interface ReadOptions {
  /** Most entries returned. Default 100. */
  count?: number;
  /** Wait up to this long for a first entry when none is there (0 = return at once). */
  blockMs?: number;
}

export type Unsubscribe = () => Promise<void>;

export interface Bus {
  readonly kind: "redis" | "memory";
  /** Pub/sub: delivered to the subscribers connected now; lost for the rest. */
  publish(channel: string, msg: unknown): Promise<void>;
  subscribe(channel: string, handler: (msg: unknown) => void): Promise<Unsubscribe>;
  /** Durable append; returns the entry's id. */
  append(stream: string, msg: unknown): Promise<string>;
  /** Appends in order, in one round trip where the adapter can. */
  appendMany(stream: string, msgs: readonly unknown[]): Promise<string[]>;
  /** Entries with id > `after` ("0" = from the start), in order. */
  read<T = unknown>(stream: string, after: string, opts?: ReadOptions): Promise<StreamEntry<T>[]>;
  /** Number of entries in the stream. */
  length(stream: string): Promise<number>;
  close(): Promise<void>;
}

/** Orders two stream ids ("a-b" with integer parts). */
export function compareIds(a: string, b: string): number {
  const [a1, a2 = "0"] = a.split("-");
  const [b1, b2 = "0"] = b.split("-");
  const x = BigInt(a1) - BigInt(b1);
  if (x !== 0n) return x < 0n ? -1 : 1;
  const y = BigInt(a2) - BigInt(b2);
  return y === 0n ? 0 : y < 0n ? -1 : 1;
}

/** JSON with bigint as decimal strings (what goes on the bus). */
export function encode(msg: unknown): string {
  return JSON.stringify(msg, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}
