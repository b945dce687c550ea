// Node.js flags the matcher process runs with (`npm run matcher`, `npm start`), and that
// `npm run bench:matcher` measures the engine with. package.json spells them out for the npm scripts
// (it cannot import this); the bench warns when its own process lacks one.
//
// --max-semi-space-size=64: a young generation that fills less often at a million commands a second
//   (the engine allocates ~550 bytes a command: events, acks), so fewer scavenges.
// Not --single-threaded-gc (no parallel scavenge helpers, no concurrent marking or sweeping threads):
//   the bench measures it each run (`gc_threads_*` rows, child processes taking turns) and in this
//   bench it cost the engine at 10k resting 30-35% (~0.53-0.56M against ~0.80-0.81M ops/s, two runs);
//   processes started by hand from a shell measured it even (~0.8M both ways), never better.
export const MATCHER_NODE_FLAGS = ["--max-semi-space-size=64"] as const;
