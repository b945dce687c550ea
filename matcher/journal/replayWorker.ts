// Worker-thread entry of readInWorker (replayThread.ts): reads and decodes the journal file and
// posts the commands in packed batches, waiting for the engine thread's acks to keep at most
// `window` batches in flight.
import { parentPort, workerData } from "node:worker_threads";
import { FileJournal, readJournalFile } from "./file";
import { RecordPacker } from "./replayRecords";
import type { ReplayMessage, ReplayWorkerData } from "./replayThread";

async function run(port: NonNullable<typeof parentPort>, d: ReplayWorkerData): Promise<void> {
  FileJournal.readChunkBytes = d.readChunkBytes;
  FileJournal.pieceBytes = d.pieceBytes;
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
  const last = await readJournalFile(
    d.file,
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
