// Replay of a journal (file or Redis stream) with the reading and decoding on a worker thread (replayWorker.ts),
// while this thread applies the commands: on two cores the decode (~0.4 µs a command) overlaps the
// engine (~1.3 µs) instead of adding to it. Commands cross in packed batches (replayRecords.ts);
// at most WINDOW batches are in flight, so the worker never runs far ahead of the engine.
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { Command } from "../engine/types";
import { unpackBatch, type PackedBatch } from "./replayRecords";

const WORKER_FILE = path.join(__dirname, "replayWorker.ts");

/** Where the worker reads the journal from (the reader's settings travel with it: statics are per thread). */
export type ReplaySource =
  | { kind: "file"; file: string; readChunkBytes: number }
  | { kind: "redis"; url: string; key: string; pageBytes: number };

export interface ReplayWorkerData {
  source: ReplaySource;
  from: number;
  batchSize: number;
  window: number;
}

export type ReplayMessage =
  ({ kind: "batch" } & PackedBatch) | { kind: "done"; last: number } | { kind: "error"; message: string };

/** Commands per batch, and batches in flight. */
export const REPLAY_BATCH = 4096;
export const REPLAY_WINDOW = 8;

export function readInWorker(
  source: ReplaySource,
  from: number,
  fn: (inSeq: number, cmd: Command) => void,
): Promise<number> {
  const data: ReplayWorkerData = { source, from, batchSize: REPLAY_BATCH, window: REPLAY_WINDOW };
  // Workers do not inherit tsx's require hook; register it before loading the TS entry (as the
  // signature pool does).
  const code = `require("tsx/cjs"); require(${JSON.stringify(WORKER_FILE)});`;
  const worker = new Worker(code, { eval: true, workerData: data });
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(err);
    };
    worker.on("message", (m: ReplayMessage) => {
      if (settled) return;
      if (m.kind === "batch") {
        try {
          unpackBatch(m, fn);
        } catch (err) {
          return fail(err as Error);
        }
        worker.postMessage("ack");
      } else if (m.kind === "done") {
        settled = true;
        void worker.terminate();
        resolve(m.last);
      } else fail(new Error(m.message));
    });
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`journal replay worker exited (code ${code}) before the end`)));
  });
}
