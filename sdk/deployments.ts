// Reading deployments/<network>.json (written by scripts/deploy.ts) into typed values.
// Every service finds the Exchange, the collateral token and the markets through here.
import { readFileSync } from "node:fs";
import path from "node:path";
import { getAddress, type Address } from "viem";

export interface MarketParams {
  maxStaleness: number;
  tickSize: bigint;
  lotSize: bigint;
  minSize: bigint;
  imfPpm: bigint;
  mmfPpm: bigint;
  makerFeePpm: bigint;
  takerFeePpm: bigint;
  minPrice: bigint;
  maxPrice: bigint;
}

export interface DeployedMarket {
  id: number;
  symbol: string;
  oracle: Address;
  params: MarketParams;
}

export interface Deployment {
  network: string;
  chainId: number;
  exchange: Address;
  collateral: Address;
  operator: Address;
  admin: Address;
  deploymentBlock: number;
  markets: DeployedMarket[];
  funded: Address[];
}

export const DEPLOYMENTS_DIR = path.resolve(__dirname, "..", "deployments");

function field<T>(obj: Record<string, unknown>, key: string, file: string): T {
  if (obj[key] === undefined || obj[key] === null) throw new Error(`${file}: missing field "${key}"`);
  return obj[key] as T;
}

function integer(v: unknown, what: string, file: string): bigint {
  if ((typeof v !== "string" && typeof v !== "number") || !/^-?\d+$/.test(String(v))) {
    throw new Error(`${file}: ${what} must be an integer, got ${JSON.stringify(v)}`);
  }
  return BigInt(v);
}

/** Parse and validate a deployment object; `file` names it in error messages. */
export function parseDeployment(raw: unknown, file = "deployment"): Deployment {
  if (typeof raw !== "object" || raw === null) throw new Error(`${file}: not a JSON object`);
  const o = raw as Record<string, unknown>;
  const markets = field<Record<string, unknown>[]>(o, "markets", file).map((m, i) => {
    const p = field<Record<string, unknown>>(m, "params", `${file} markets[${i}]`);
    const int = (k: string) => integer(field(p, k, `${file} markets[${i}].params`), `markets[${i}].params.${k}`, file);
    return {
      id: Number(integer(field(m, "id", file), `markets[${i}].id`, file)),
      symbol: field<string>(m, "symbol", file),
      oracle: getAddress(field<string>(m, "oracle", file)),
      params: {
        maxStaleness: Number(int("maxStaleness")),
        tickSize: int("tickSize"),
        lotSize: int("lotSize"),
        minSize: int("minSize"),
        imfPpm: int("imfPpm"),
        mmfPpm: int("mmfPpm"),
        makerFeePpm: int("makerFeePpm"),
        takerFeePpm: int("takerFeePpm"),
        minPrice: int("minPrice"),
        maxPrice: int("maxPrice"),
      },
    };
  });
  return {
    network: String(o.network ?? "unknown"),
    chainId: Number(integer(field(o, "chainId", file), "chainId", file)),
    exchange: getAddress(field<string>(o, "exchange", file)),
    collateral: getAddress(field<string>(o, "collateral", file)),
    operator: getAddress(field<string>(o, "operator", file)),
    admin: getAddress(field<string>(o, "admin", file)),
    deploymentBlock: Number(integer(field(o, "deploymentBlock", file), "deploymentBlock", file)),
    markets,
    funded: ((o.funded as string[] | undefined) ?? []).map((a) => getAddress(a)),
  };
}

/** Load deployments/<network>.json, or the file at `file` when given a path ending in .json. */
export function loadDeployment(networkOrFile = "localhost"): Deployment {
  const file = networkOrFile.endsWith(".json") ? networkOrFile : path.join(DEPLOYMENTS_DIR, `${networkOrFile}.json`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new Error(`no deployment at ${file}: run \`npm start\` (local) or \`npm run deploy -- --network <name>\``);
  }
  return parseDeployment(JSON.parse(text), path.basename(file));
}

export function marketBySymbol(d: Deployment, symbol: string): DeployedMarket {
  const m = d.markets.find((x) => x.symbol === symbol);
  if (!m) throw new Error(`unknown market ${symbol}; listed: ${d.markets.map((x) => x.symbol).join(", ")}`);
  return m;
}
