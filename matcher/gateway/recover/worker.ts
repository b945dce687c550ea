// Worker-thread entry: receives packed batches (digest ‖ signature, 97 bytes each) and
// answers with packed results (ok flag ‖ 20-byte address, 21 bytes each).
import { parentPort, workerData } from "node:worker_threads";
import { defaultRecoverer } from "./secp256k1";

export const JOB_BYTES = 97;
export const RESULT_BYTES = 21;

export function recoverBatch(input: Uint8Array, backend: "native" | "js"): Uint8Array {
  const rec = defaultRecoverer(backend);
  const n = Math.floor(input.length / JOB_BYTES);
  const out = new Uint8Array(n * RESULT_BYTES);
  for (let i = 0; i < n; i++) {
    const o = i * JOB_BYTES;
    const addr = rec.recover(input.subarray(o, o + 32), input.subarray(o + 32, o + JOB_BYTES));
    if (addr) {
      out[i * RESULT_BYTES] = 1;
      out.set(addr, i * RESULT_BYTES + 1);
    }
  }
  return out;
}

if (parentPort) {
  const backend = ((workerData as { backend?: string } | undefined)?.backend === "js" ? "js" : "native") as
    "native" | "js";
  const port = parentPort;
  port.on("message", (msg: { id: number; input: Uint8Array }) => {
    const out = recoverBatch(msg.input, backend);
    port.postMessage({ id: msg.id, out }, [out.buffer]);
  });
}
