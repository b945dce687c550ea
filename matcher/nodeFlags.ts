// Node.js flags the matcher process runs with (`npm run matcher`, `npm start`), and that
// `npm run bench:matcher` measures the engine with. package.json spells them out for the npm scripts
// (it cannot import this); the bench warns when its own process lacks one.
//
// --max-semi-space-size=16: the young generation's cap. It was 64 while the engine allocated ~550 bytes a
//   command; it now allocates far less (events and acks go to typed-array logs), and with 1M resting
//   orders a 64 MB young generation made the engine slower and its p99 bimodal: 9-25 us in most runs
//   against 4-9 us with 8 or 16 MB. By hand, child processes taking turns at 1M resting: 64 MB
//   ~0.36-0.70M ops/s, 16 MB ~0.43-0.83M (8 MB alike, 4 MB slower again: too many scavenges); at 10k
//   resting no clear difference. The bench measures it each run (`semi_space_*` rows).
// Not --single-threaded-gc (no parallel scavenge helpers, no concurrent marking or sweeping threads):
//   the bench measures it each run (`gc_threads_*` rows: child processes taking turns, engine at 10k
//   resting). Median of the pairs' ratios, with it against without: 64%, ~85% and 108% in three runs,
//   ~100% in two by hand from a shell. No consistent gain, so the matcher keeps node's default.
export const MATCHER_NODE_FLAGS = ["--max-semi-space-size=16"] as const;
