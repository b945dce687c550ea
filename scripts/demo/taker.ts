// Demo taker (`npm start` runs it with Hardhat account #2): now and then it crosses the spread
// with an IOC limit order on a random side of a random market, so trades and settlement are live.
import { bot, log, markOf, priceAt, sizeFor, sleep } from "./common";

const EVERY_MS = Number(process.env.TAKE_MS ?? 5000);

async function main(): Promise<void> {
  const { client, markets } = bot();
  log("taker", `taking in ${markets.map((x) => x.symbol).join(", ")} as ${client.user}`);
  let running = true;
  process.on("SIGTERM", () => (running = false));
  process.on("SIGINT", () => (running = false));
  while (running) {
    await sleep(EVERY_MS * (0.5 + Math.random()));
    const { m, symbol } = markets[Math.floor(Math.random() * markets.length)];
    try {
      const mark = await markOf(client, symbol);
      if (mark === 0n) continue;
      const side = Math.random() < 0.5 ? "BUY" : "SELL";
      const r = await client.placeOrder({
        symbol,
        marketId: m.id,
        side,
        type: "LIMIT",
        timeInForce: "IOC",
        price: priceAt(m, mark, side === "BUY" ? 5_000 : -5_000),
        quantity: sizeFor(m, mark, 40),
      });
      log("taker", `${symbol} ${side} ${String(r.executedQty ?? "?")} ${String(r.status ?? "")}`);
    } catch (err) {
      log("taker", `${symbol}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  process.exit(0);
}

main().catch((err) => {
  log("taker", `failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
