// The listener on its own, as `npm run keeper` runs it with SETTLER_ENABLED=false: a separate process
// against the same Postgres and Redis as the settler. Used by bench:settlement (BENCH_LISTENER=process).
// Env: RPC_URL, EXCHANGE, FROM_BLOCK, DATABASE_URL, DB_SCHEMA, REDIS_URL, BUS_PREFIX. Prints "ready" on
// stdout once following; stops cleanly on SIGTERM.
import { createPublicClient, http, type Address, type PublicClient } from "viem";
import { openBus } from "../../keeper/bus";
import { openDb } from "../../keeper/db";
import { Listener } from "../../keeper/listener";
import { silentLogger } from "../../keeper/log";

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`listenerProcess: ${name} is not set`);
  return v;
}

async function main() {
  const client = createPublicClient({
    transport: http(need("RPC_URL")),
    cacheTime: 0,
    pollingInterval: 20,
  }) as PublicClient;
  const db = await openDb({ url: need("DATABASE_URL"), schema: need("DB_SCHEMA") });
  const bus = openBus({ url: need("REDIS_URL"), prefix: need("BUS_PREFIX") });
  const listener = new Listener({
    db,
    bus,
    client,
    exchange: need("EXCHANGE") as Address,
    fromBlock: BigInt(need("FROM_BLOCK")),
    pollMs: 5,
    log: silentLogger,
  });
  listener.start();
  process.stdout.write("ready\n");
  process.once("SIGTERM", () => {
    void (async () => {
      await listener.stop();
      await bus.close();
      await db.close();
      process.exit(0);
    })();
  });
}

main().catch((err) => {
  console.error(`listenerProcess: ${String(err)}`);
  process.exit(1);
});
