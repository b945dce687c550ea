// Agent (API-wallet) keys: a user authorises a signer to act for it. The authoritative list
// lives on chain (the Exchange's agent registry); the chain listener or an operator feeds
// it here. With Redis, every gateway sees the same set.
import type { Redis } from "ioredis";
import { KEY_PREFIX } from "../redis";

export interface AgentRegistry {
  isAgent(user: string, signer: string): Promise<boolean>;
  authorise(user: string, signer: string): Promise<void>;
  revoke(user: string, signer: string): Promise<void>;
}

export class MemoryAgentRegistry implements AgentRegistry {
  private readonly agents = new Map<string, Set<string>>();

  async isAgent(user: string, signer: string): Promise<boolean> {
    return this.agents.get(user)?.has(signer) ?? false;
  }

  async authorise(user: string, signer: string): Promise<void> {
    let s = this.agents.get(user);
    if (!s) this.agents.set(user, (s = new Set()));
    s.add(signer);
  }

  async revoke(user: string, signer: string): Promise<void> {
    this.agents.get(user)?.delete(signer);
  }
}

export class RedisAgentRegistry implements AgentRegistry {
  constructor(private readonly redis: Redis) {}

  async isAgent(user: string, signer: string): Promise<boolean> {
    return (await this.redis.sismember(`${KEY_PREFIX}agents:${user}`, signer)) === 1;
  }

  async authorise(user: string, signer: string): Promise<void> {
    await this.redis.sadd(`${KEY_PREFIX}agents:${user}`, signer);
  }

  async revoke(user: string, signer: string): Promise<void> {
    await this.redis.srem(`${KEY_PREFIX}agents:${user}`, signer);
  }
}
