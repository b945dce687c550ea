// keccak-256 with the native `keccak` addon and a pure-JS fallback (@noble/hashes) that
// gives byte-identical answers. `keccak256` picks the native one when it loads.
//
// The addon's public entry wraps every hash in a stream.Transform (an object graph per
// call); the hot path uses its KeccakState directly: one reused sponge per thread,
// initialize → absorb → squeeze (the same calls the wrapper makes).
import * as path from "node:path";
import { keccak_256 } from "@noble/hashes/sha3";

export type Keccak256 = (data: Uint8Array) => Uint8Array;

export const keccak256Js: Keccak256 = (data) => keccak_256(data);

interface KeccakState {
  initialize(rate: number, capacity: number): void;
  absorb(data: Buffer): void;
  squeeze(bytes: number): Buffer;
}

const EMPTY_HASH = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";

function loadNative(): Keccak256 | null {
  try {
    // The addon's bindings entry throws when the compiled module is missing.
    require("keccak/bindings");
    const dir = path.dirname(require.resolve("keccak/bindings"));
    const gypBuild = require(require.resolve("node-gyp-build", { paths: [dir] })) as (d: string) => unknown;
    const State = gypBuild(dir) as new () => KeccakState;
    const st = new State();
    const hash: Keccak256 = (data) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      st.initialize(1088, 512);
      st.absorb(buf);
      return st.squeeze(32);
    };
    if (Buffer.from(hash(new Uint8Array(0))).toString("hex") !== EMPTY_HASH) return null;
    return hash;
  } catch {
    return null;
  }
}

export const keccak256Native: Keccak256 | null = loadNative();

export const keccak256: Keccak256 = keccak256Native ?? keccak256Js;
