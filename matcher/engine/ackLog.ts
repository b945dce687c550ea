// The engine's acks as written: one row per command (inSeq, type, reason, order id) in typed
// arrays and a reference array, no object per ack. Consumers decode what they read (at, toAcks).
import { Reason, type Ack, type CommandType, type ReasonCode } from "./types";
import { doubleRefs, grown } from "./eventLog";

/** Acks allocated for at first, and the most a cleared log keeps (one huge group must not pin its memory). */
const INITIAL = 1024;
const KEEP = 1 << 16;

export class AckLog {
  /** Acks in the log. */
  length = 0;
  private nums = new Float64Array(2 * INITIAL);
  private refs: unknown[] = new Array<unknown>(2 * INITIAL).fill(null);

  /** Forget every ack (the arrays are kept for reuse, unless one huge batch grew them past KEEP). */
  clear(): void {
    this.length = 0;
    if (this.nums.length > 2 * KEEP) {
      this.nums = new Float64Array(2 * INITIAL);
      this.refs = new Array<unknown>(2 * INITIAL).fill(null);
    }
  }

  push(inSeq: number, type: CommandType, reason: ReasonCode, orderId: number): void {
    const i = this.length;
    if (2 * i === this.nums.length) this.grow();
    this.length = i + 1;
    this.nums[2 * i] = inSeq;
    this.nums[2 * i + 1] = orderId;
    this.refs[2 * i] = type;
    this.refs[2 * i + 1] = reason;
  }

  private grow(): void {
    this.nums = grown(this.nums, 0);
    doubleRefs(this.refs);
  }

  inSeq(i: number): number {
    return this.nums[2 * i];
  }

  /** Ack i (0 <= i < length) as an object. */
  at(i: number): Ack {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`ack log: no ack ${i} (length ${this.length})`);
    const reason = this.refs[2 * i + 1] as ReasonCode;
    return {
      inSeq: this.nums[2 * i],
      type: this.refs[2 * i] as CommandType,
      ok: reason === Reason.OK,
      reason,
      orderId: this.nums[2 * i + 1],
    };
  }

  /** The last ack, removed from the log. */
  pop(): Ack {
    const a = this.at(this.length - 1);
    this.length--;
    return a;
  }

  /** Every ack, decoded, appended to `out` (a new array when none); returns it. */
  toAcks(out: Ack[] = []): Ack[] {
    for (let i = 0, n = this.length; i < n; i++) out.push(this.at(i));
    return out;
  }
}
