// Worker-thread entry of readInWorker (replayThread.ts): reads and decodes the journal (file or Redis stream) and
// posts the commands in packed batches, waiting for the engine thread's acks to keep at most
// `window` batches in flight.
import { createRequire } from "node:module";
import { parentPort, workerData } from "node:worker_threads";
import type * as IORedis from "ioredis";
import { RecordDecoder } from "./decode";
import { FileJournal, readJournalFile } from "./file";
import type * as RedisModule from "./redis";
import type { ReplayMessage, ReplaySource, ReplayWorkerData } from "./replayThread";

/** Decodes the source above `from` into `decoder`, awaiting `between` after each chunk or page; returns the last inSeq. */
async function readSource(
  src: ReplaySource,
  from: number,
  decoder: RecordDecoder,
  between: () => Promise<void>,
): Promise<number> {
  if (src.kind === "file") {
    FileJournal.readChunkBytes = src.readChunkBytes;
    return readJournalFile(src.file, from, decoder, between);
  }
  // loaded here, not at the top: a file replay's worker starts without compiling and loading ioredis
  // (~0.2 s of a 1M-command replay)
  // (through require: the worker runs under tsx's CommonJS hook only, import() would miss it)
  const load = createRequire(__filename);
  const Redis = (load("ioredis") as typeof IORedis).default;
  const { readRedisStream } = load("./redis") as typeof RedisModule;
  const redis = new Redis(src.url, { maxRetriesPerRequest: 3 });
  try {
    return await readRedisStream(redis, src.key, from, decoder, src.pageBytes, between);
  } finally {
    redis.disconnect();
  }
}

async function run(port: NonNullable<typeof parentPort>, d: ReplayWorkerData): Promise<void> {
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
  const decoder = new RecordDecoder(d.batchSize, (b) => {
    inFlight++;
    port.postMessage({ kind: "batch", ...b } satisfies ReplayMessage, [b.records.buffer]);
  });
  const last = await readSource(d.source, d.from, decoder, async () => {
    while (inFlight >= d.window) await new Promise<void>((r) => (wake = r));
  });
  port.postMessage({ kind: "done", last } satisfies ReplayMessage);
}

if (parentPort) {
  const port = parentPort;
  run(port, workerData as ReplayWorkerData).catch((err: Error) =>
    port.postMessage({ kind: "error", message: err.message } satisfies ReplayMessage),
  );
}
