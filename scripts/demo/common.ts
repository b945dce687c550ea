// Shared by the demo bots: the deployment, an sdk/ client for PRIVATE_KEY against REST_URL, and
// price/size helpers in the contract's integer units (sdk/units.ts).
import path from "node:path";
import { Client } from "../../sdk/client";
import { loadDeployment, type DeployedMarket, type Deployment } from "../../sdk/deployments";
import { formatUnits, PRICE_DECIMALS, SIZE_DECIMALS } from "../../sdk/units";
import { apiSymbol } from "../../matcher/markets";

export interface Bot {
  deployment: Deployment;
  client: Client;
  markets: { m: DeployedMarket; symbol: string }[];
}

export function bot(): Bot {
  const deployment = loadDeployment(path.resolve(process.env.DEPLOYMENT_FILE ?? "deployments/localhost.json"));
  const key = process.env.PRIVATE_KEY as `0x${string}` | undefined;
  if (!key) throw new Error("PRIVATE_KEY is required");
  const client = new Client({
    baseUrl: process.env.REST_URL ?? "http://127.0.0.1:8080",
    privateKey: key,
    exchange: { chainId: deployment.chainId, address: deployment.exchange },
  });
  return { deployment, client, markets: deployment.markets.map((m) => ({ m, symbol: apiSymbol(m.symbol) })) };
}

/** Mark price (price units) from the gateway, 0 when none yet. */
export async function markOf(c: Client, symbol: string): Promise<bigint> {
  const r = await c.public<{ markPrice: string }>("/premiumIndex", { symbol });
  const [i, f = ""] = r.markPrice.split(".");
  return BigInt(i) * 10n ** BigInt(PRICE_DECIMALS) + BigInt((f + "000000").slice(0, PRICE_DECIMALS) || "0");
}

/** `p * (1e6 + ppm) / 1e6` rounded down to the tick. */
export function priceAt(m: DeployedMarket, p: bigint, ppm: number): string {
  const tick = m.params.tickSize;
  const raw = (p * (1_000_000n + BigInt(ppm))) / 1_000_000n;
  return formatUnits((raw / tick) * tick, PRICE_DECIMALS);
}

/** A size worth about `usd` at price `p`, in whole lots and at least the minimum size. */
export function sizeFor(m: DeployedMarket, p: bigint, usd: number): string {
  const lot = m.params.lotSize;
  let s = (BigInt(Math.round(usd * 1e6)) * 10n ** BigInt(SIZE_DECIMALS)) / p;
  s = ((s + lot - 1n) / lot) * lot;
  if (s < m.params.minSize) s = ((m.params.minSize + lot - 1n) / lot) * lot;
  return formatUnits(s, SIZE_DECIMALS);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function log(name: string, msg: string): void {
  process.stdout.write(`${new Date().toISOString()} ${name} ${msg}\n`);
}
