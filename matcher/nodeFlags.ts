// Node.js flags the matcher process runs with (`npm run matcher`, `npm start`), and that
// `npm run bench:matcher` measures the engine with. package.json spells them out for the npm scripts
// (it cannot import this); the bench warns when its own process lacks one.
//
// --max-semi-space-size=64: a young generation that fills less often at a million commands a second
//   (the engine allocates ~550 bytes a command: events, acks), so fewer scavenges.
// --single-threaded-gc: the GC works on the main thread only, with no parallel scavenge helpers and no
//   concurrent marking or sweeping threads. On this 2-core machine the helpers cost more than they
//   save: the engine at 10k resting did ~15-20% more commands a second without them, with shorter
//   scavenges (the bench's `gc_threads_*` rows measure both ways in child processes, each run), and the
//   other core stays with the gateway's signature workers, Redis and Postgres. The gateway's own
//   throughput did not move (bench:gateway, both ways).
export const MATCHER_NODE_FLAGS = ["--max-semi-space-size=64", "--single-threaded-gc"] as const;
