// Redis connections for the gateway (ioredis). Keys are prefixed so that tests and several
// deployments can share one server.
import { Redis } from "ioredis";

export function connectRedis(url: string, name: string): Redis {
  return new Redis(url, { connectionName: name, maxRetriesPerRequest: 2, enableAutoPipelining: true });
}

export const KEY_PREFIX = process.env.REDIS_PREFIX ?? "gw:";
