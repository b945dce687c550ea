// Demo market maker (`npm start` runs it with Hardhat account #1): every QUOTE_MS it cancels its
// quotes and posts LEVELS bids and asks around the oracle mark price in every market.
import { bot, log, markOf, priceAt, sizeFor, sleep } from "./common";

const QUOTE_MS = Number(process.env.QUOTE_MS ?? 3000);
const LEVELS = Number(process.env.LEVELS ?? 3);
const STEP_PPM = Number(process.env.STEP_PPM ?? 500);

async function main(): Promise<void> {
  const { client, markets } = bot();
  log("maker", `quoting ${markets.map((x) => x.symbol).join(", ")} as ${client.user}`);
  let running = true;
  process.on("SIGTERM", () => (running = false));
  process.on("SIGINT", () => (running = false));
  while (running) {
    for (const { m, symbol } of markets) {
      try {
        const mark = await markOf(client, symbol);
        if (mark === 0n) continue;
        await client.signed("DELETE", "/allOpenOrders", { symbol });
        for (let i = 1; i <= LEVELS; i++) {
          for (const side of ["BUY", "SELL"] as const) {
            const ppm = (side === "BUY" ? -1 : 1) * STEP_PPM * i;
            await client.placeOrder({
              symbol,
              marketId: m.id,
              side,
              type: "LIMIT",
              timeInForce: "GTX",
              price: priceAt(m, mark, ppm),
              quantity: sizeFor(m, mark, 50 * i),
            });
          }
        }
      } catch (err) {
        log("maker", `${symbol}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    await sleep(QUOTE_MS);
  }
  process.exit(0);
}

main().catch((err) => {
  log("maker", `failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
