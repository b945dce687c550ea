import { MemoryBus } from "./memory";
import { RedisBus } from "./redis";
import type { Bus } from "./types";

export * from "./types";
export { MemoryBus } from "./memory";
export { RedisBus, type RedisBusOptions } from "./redis";

/** Redis when `url` is given, else the in-process bus (with an append-only file when `file` is given). */
export function openBus(opts: { url?: string; prefix?: string; name?: string; file?: string }): Bus {
  if (opts.url) return new RedisBus({ url: opts.url, prefix: opts.prefix, name: opts.name });
  return new MemoryBus(opts.file);
}
