// Worker-thread entry of readInWorker (replayThread.ts): reads and decodes the journal (file or Redis stream) and
// posts the commands in packed batches, waiting for the engine thread's acks to keep at most
// `window` batches in flight.
import { createRequire } from "node:module";
import { parentPort, workerData } from "node:worker_threads";
import type * as IORedis from "ioredis";
import type { Command } from "../engine/types";
import { FileJournal, readJournalFile } from "./file";
import type * as RedisModule from "./redis";
import { RecordPacker } from "./replayRecords";
import type { ReplayMessage, ReplaySource, ReplayWorkerData } from "./replayThread";

type Consumer = (inSeq: number, cmd: Command) => void;

/** Reads the source above `from` into fn, awaiting `between` after each chunk or page; returns the last inSeq. */
async function readSource(
  src: ReplaySource,
  from: number,
  fn: Consumer,
  between: () => Promise<void>,
): Promise<number> {
  if (src.kind === "file") {
    FileJournal.readChunkBytes = src.readChunkBytes;
    FileJournal.pieceBytes = src.pieceBytes;
    return readJournalFile(src.file, from, fn, between);
  }
  // loaded here, not at the top: a file replay's worker starts without compiling and loading ioredis
  // (~0.2 s of a 1M-command replay)
  // (through require: the worker runs under tsx's CommonJS hook only, import() would miss it)
  const load = createRequire(__filename);
  const Redis = (load("ioredis") as typeof IORedis).default;
  const { readRedisStream } = load("./redis") as typeof RedisModule;
  const redis = new Redis(src.url, { maxRetriesPerRequest: 3 });
  try {
    return await readRedisStream(redis, src.key, from, fn, src.pageBytes, between);
  } finally {
    redis.disconnect();
  }
}

async function run(port: NonNullable<typeof parentPort>, d: ReplayWorkerData): Promise<void> {
  const packer = new RecordPacker(d.batchSize);
  let inFlight = 0;
  let wake: (() => void) | null = null;
  port.on("message", () => {
    inFlight--;
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  });
  const send = () => {
    const b = packer.take();
    inFlight++;
    port.postMessage({ kind: "batch", ...b } satisfies ReplayMessage, [b.records.buffer]);
  };
  const last = await readSource(
    d.source,
    d.from,
    (inSeq, cmd) => {
      if (packer.add(inSeq, cmd)) send();
    },
    async () => {
      while (inFlight >= d.window) await new Promise<void>((r) => (wake = r));
    },
  );
  if (packer.length > 0) send();
  port.postMessage({ kind: "done", last } satisfies ReplayMessage);
}

if (parentPort) {
  const port = parentPort;
  run(port, workerData as ReplayWorkerData).catch((err: Error) =>
    port.postMessage({ kind: "error", message: err.message } satisfies ReplayMessage),
  );
}
