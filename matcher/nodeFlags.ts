// Node.js flags the matcher process runs with (`npm run matcher`, `npm start`), and that
// `npm run bench:matcher` measures the engine with. package.json spells them out for the npm scripts
// (it cannot import this); the bench warns when its own process lacks one.
//
// --max-semi-space-size=64: a young generation that fills less often at a million commands a second
//   (the engine allocates ~550 bytes a command: events, acks), so fewer scavenges.
// Not --single-threaded-gc (no parallel scavenge helpers, no concurrent marking or sweeping threads):
//   the bench measures it each run (`gc_threads_*` rows: child processes taking turns, engine at 10k
//   resting). Median of the pairs' ratios, with it against without: 64%, ~85% and 108% in three runs,
//   ~100% in two by hand from a shell. No consistent gain, so the matcher keeps node's default.
export const MATCHER_NODE_FLAGS = ["--max-semi-space-size=64"] as const;
