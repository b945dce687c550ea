// A pool of worker threads that recovers signer addresses, so signature checks never run
// on the thread that runs the engine and the HTTP/WS loop. Jobs are packed into one message
// per worker (97 bytes in, 21 bytes out per job), and each worker has at most one batch in
// flight: jobs that arrive while every worker is busy wait for the next free one and go
// together: under load batches grow instead of messages multiplying (each message wakes a
// thread, which on a loaded VM costs tens of µs and a reschedule); when a worker is idle, a
// lone job is sent at once (latency first).
import { Worker } from "node:worker_threads";
import * as path from "node:path";
import { JOB_BYTES, RESULT_BYTES, recoverBatch } from "./worker";
import { bytesToHex } from "./hex";

export interface RecoverPoolOptions {
  /** Worker threads; 0 recovers inline on the calling thread (tests, tools). */
  workers: number;
  backend: "native" | "js";
  /** Largest batch sent to one worker in one message. */
  maxBatch?: number;
}

interface Pending {
  digest: Uint8Array;
  sig: Uint8Array;
  resolve: (addr: string | null) => void;
}

interface Slot {
  worker: Worker;
  inflight: number;
}

const WORKER_FILE = path.join(__dirname, "worker.ts");
const MIN_CHUNK = 16;

function spawn(backend: string): Worker {
  // Workers do not inherit tsx's require hook; register it before loading the TS entry.
  const code = `require("tsx/cjs"); require(${JSON.stringify(WORKER_FILE)});`;
  const w = new Worker(code, { eval: true, workerData: { backend } });
  w.unref();
  return w;
}

export class RecoverPool {
  private readonly slots: Slot[] = [];
  private queue: Pending[] = [];
  private scheduled = false;
  private nextId = 1;
  private readonly batches = new Map<number, { jobs: Pending[]; slot: Slot }>();
  private readonly maxBatch: number;
  recovered = 0;
  /** Messages sent to workers (recovered / batches = mean batch size). */
  batchesSent = 0;

  constructor(private readonly opts: RecoverPoolOptions) {
    this.maxBatch = opts.maxBatch ?? 256;
    for (let i = 0; i < opts.workers; i++) {
      const slot: Slot = { worker: spawn(opts.backend), inflight: 0 };
      slot.worker.on("message", (m: { id: number; out: Uint8Array }) => this.onResult(m));
      slot.worker.on("error", (err) => this.onWorkerError(slot, err));
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Address (lowercase 0x hex) that signed `digest`, or null if the signature is invalid. */
  recover(digest: Uint8Array, sig: Uint8Array): Promise<string | null> {
    if (digest.length !== 32 || sig.length !== 65) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.queue.push({ digest, sig, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.slots.length === 0) {
      const jobs = this.queue;
      this.queue = [];
      this.complete(jobs, recoverBatch(this.pack(jobs), this.opts.backend));
      return;
    }
    this.dispatch();
  }

  /**
   * Hand queued jobs to idle workers, split evenly, never in tiny pieces. (Holding small
   * batches back for an already-busy worker saved wake-ups but cost order-to-delta latency
   * on the loaded 2-core box: tried and dropped.)
   */
  private dispatch(): void {
    let idle = 0;
    for (const s of this.slots) if (s.inflight === 0) idle++;
    while (this.queue.length > 0 && idle > 0) {
      const per = Math.min(this.maxBatch, Math.max(MIN_CHUNK, Math.ceil(this.queue.length / idle)));
      const chunk = this.queue.length <= per ? this.queue : this.queue.slice(0, per);
      this.queue = this.queue.length <= per ? [] : this.queue.slice(per);
      const slot = this.slots.find((s) => s.inflight === 0)!;
      idle--;
      const id = this.nextId++;
      slot.inflight += chunk.length;
      this.batches.set(id, { jobs: chunk, slot });
      const input = this.pack(chunk);
      this.batchesSent++;
      slot.worker.postMessage({ id, input }, [input.buffer]);
    }
  }

  private pack(jobs: Pending[]): Uint8Array {
    const input = new Uint8Array(jobs.length * JOB_BYTES);
    for (let i = 0; i < jobs.length; i++) {
      input.set(jobs[i].digest, i * JOB_BYTES);
      input.set(jobs[i].sig, i * JOB_BYTES + 32);
    }
    return input;
  }

  private complete(jobs: Pending[], out: Uint8Array): void {
    this.recovered += jobs.length;
    for (let i = 0; i < jobs.length; i++) {
      const o = i * RESULT_BYTES;
      jobs[i].resolve(out[o] === 1 ? bytesToHex(out.subarray(o + 1, o + RESULT_BYTES)) : null);
    }
  }

  private onResult(m: { id: number; out: Uint8Array }): void {
    const b = this.batches.get(m.id);
    if (!b) return;
    this.batches.delete(m.id);
    b.slot.inflight -= b.jobs.length;
    // keep the worker going before resolving this batch's callers
    if (this.queue.length > 0) this.dispatch();
    this.complete(b.jobs, m.out);
  }

  private onWorkerError(slot: Slot, err: Error): void {
    // Fail the batches the dead worker held (as invalid: nothing is accepted unverified),
    // then replace it.
    for (const [id, b] of this.batches) {
      if (b.slot !== slot) continue;
      this.batches.delete(id);
      for (const j of b.jobs) j.resolve(null);
    }
    slot.inflight = 0;
    const idx = this.slots.indexOf(slot);
    if (idx >= 0) {
      const fresh: Slot = { worker: spawn(this.opts.backend), inflight: 0 };
      fresh.worker.on("message", (m: { id: number; out: Uint8Array }) => this.onResult(m));
      fresh.worker.on("error", (e) => this.onWorkerError(fresh, e));
      this.slots[idx] = fresh;
    }
    if (this.queue.length > 0) this.dispatch();
    process.emitWarning(`recover worker failed: ${err.message}`);
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }
}
