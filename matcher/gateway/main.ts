// Start a gateway from the environment (see config.ts and README.md):
//   ENGINE=embedded (default): the engine runs in this process; with REDIS_URL it also
//     serves follower gateways (events on Redis pub/sub, commands from a Redis list).
//   ENGINE=remote: a follower; needs REDIS_URL and an embedded gateway on the same Redis.
//   JOURNAL=off: run the engine without its durable journal (default: journaled, Redis
//     Streams when REDIS_URL is set, else an append-only file under JOURNAL_DIR).
//   EXCHANGE_CHAIN_ID / EXCHANGE_ADDRESS: the EIP-712 domain of orders (sdk/eip712.ts).
//   SEED_MARK=<price units>: set this mark price on every market at start (demo/bench).
//   SEED_ACCOUNTS=<addr,addr,…> and SEED_BALANCE=<quote units>: credit these accounts at
//     start (demo/bench only; real balances arrive from the chain listener).
import { Gateway } from "./gateway";
import { LocalVenue, defaultMarkets, specOf } from "./venue/local";
import { RemoteVenue } from "./venue/remote";
import { JournaledVenue } from "./venue/journaled";
import { openJournal } from "../index";
import { loadConfig } from "./config";
import type { Venue } from "./venue/types";

export async function startGateway(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ gateway: Gateway; port: number; venue: Venue }> {
  const cfg = loadConfig(env);
  const markets = defaultMarkets();
  let venue: Venue;
  if (env.ENGINE === "remote") {
    if (!cfg.redisUrl) throw new Error("ENGINE=remote needs REDIS_URL");
    const rv = new RemoteVenue(cfg.redisUrl, cfg.id, markets.map(specOf));
    await rv.init();
    venue = rv;
  } else {
    const lv =
      env.JOURNAL === "off"
        ? new LocalVenue(markets)
        : await JournaledVenue.open(
            markets,
            await openJournal(env.JOURNAL_NAME ?? "engine", env),
            undefined,
            undefined,
            env.MATCHER_ACCEPT_RULES_CHANGE === "1",
          );
    const now = Date.now();
    if (env.SEED_MARK) {
      for (const m of markets) await lv.submit({ type: "mark", ts: now, market: m.id, price: Number(env.SEED_MARK) });
    }
    for (const a of (env.SEED_ACCOUNTS ?? "").split(",").filter(Boolean)) {
      await lv.submit({ type: "balance", ts: now, account: a.toLowerCase(), delta: Number(env.SEED_BALANCE ?? 1e12) });
    }
    venue = lv;
  }
  const gateway = new Gateway({
    venue,
    exchange: {
      chainId: Number(env.EXCHANGE_CHAIN_ID ?? 31337),
      address: env.EXCHANGE_ADDRESS ?? "0x0000000000000000000000000000000000000000",
    },
    defaultMetrics: true,
  });
  const port = await gateway.start();
  return { gateway, port, venue };
}

if (require.main === module) {
  startGateway().then(
    ({ gateway }) => {
      const stop = () => void gateway.stop().then(() => process.exit(0));
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    },
    (err) => {
      process.stderr.write(`gateway failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
