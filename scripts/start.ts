// `npm start`: boot the whole local exchange and stay up until Ctrl-C.
// Today: a Hardhat node, the Exchange deployment (mock USD collateral, mock price feeds,
// BTC-USD and ETH-USD markets, funded local accounts) written to deployments/localhost.json.
// Each later service (matcher + gateway, keeper + listener) is started here too.
import { existsSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import path from "node:path";
import { rpc, runStep, startService, stopOnSignals, waitForRpc } from "./lib/processes";

const CHAIN_HOST = "127.0.0.1";
const CHAIN_PORT = Number(process.env.CHAIN_PORT ?? 8545);
const root = path.resolve(__dirname, "..");
const FUNDED_ACCOUNTS = 5;
const chainLog = path.join(root, ".data", "logs", "chain.log");
const hardhatBin = path.join(root, "node_modules", ".bin", "hardhat");

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: CHAIN_HOST, port });
    sock.once("connect", () => (sock.destroy(), resolve(true)));
    sock.once("error", () => resolve(false));
  });
}

async function main(): Promise<void> {
  stopOnSignals();
  const external = process.env.RPC_URL;
  const rpcUrl = external ?? `http://${CHAIN_HOST}:${CHAIN_PORT}`;

  if (!external) {
    if (await portInUse(CHAIN_PORT)) {
      throw new Error(`port ${CHAIN_PORT} is already in use: stop what runs there or set CHAIN_PORT`);
    }
    await runStep("compile", hardhatBin, ["compile", "--quiet"]);
    startService("chain", hardhatBin, ["node", "--hostname", CHAIN_HOST, "--port", String(CHAIN_PORT)], {}, chainLog);
  }
  await waitForRpc(rpcUrl);
  console.log(`[start] chain ready at ${rpcUrl}`);

  // The node's unlocked accounts #1..#5 become funded traders (#0 deploys and operates).
  const accounts = (await rpc<string[]>(rpcUrl, "eth_accounts")).slice(1, 1 + FUNDED_ACCOUNTS);
  await runStep("deploy", hardhatBin, ["run", "scripts/deploy.ts", "--network", "localhost"], {
    RPC_URL: rpcUrl,
    FUND: accounts.join(","),
  });
  const deploymentFile = path.join(root, "deployments", "localhost.json");
  if (!existsSync(deploymentFile)) throw new Error(`deploy finished but wrote no ${deploymentFile}`);
  const deployment = JSON.parse(readFileSync(deploymentFile, "utf8"));

  const rows: [string, string][] = [
    ["chain", `${rpcUrl} (chain id ${deployment.chainId})${external ? "" : `, log ${path.relative(root, chainLog)}`}`],
    ["deployment", `${path.relative(root, deploymentFile)} (block ${deployment.deploymentBlock})`],
    ...(["exchange", "collateral", "operator", "admin"] as const).map((k): [string, string] => [k, deployment[k]]),
    ...(deployment.markets as { id: number; symbol: string; oracle: string }[]).map((m): [string, string] => [
      `market ${m.id}`,
      `${m.symbol}, oracle ${m.oracle}`,
    ]),
    ["funded", (deployment.funded as string[]).join(", ") || "none"],
  ];
  console.log("\n=== perpx local exchange is up ===");
  for (const [k, v] of rows) console.log(`${k.padEnd(12)} ${v}`);
  console.log("Ctrl-C stops everything.\n");
}

main().catch((err: unknown) => {
  console.error(`[start] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
