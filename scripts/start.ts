// `npm start`: boot the whole local exchange and stay up until Ctrl-C.
// Today: a Hardhat node, the Exchange deployment (mock USD collateral, mock price feeds,
// BTC-USD and ETH-USD markets, funded local accounts) written to deployments/localhost.json.
// Each later service (matcher + gateway, keeper + listener) is started here too.
import { existsSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import path from "node:path";
import { runStep, startService, stopOnSignals, waitForRpc } from "./lib/processes";

const CHAIN_HOST = "127.0.0.1";
const CHAIN_PORT = Number(process.env.CHAIN_PORT ?? 8545);
const root = path.resolve(__dirname, "..");
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
    startService("chain", hardhatBin, ["node", "--hostname", CHAIN_HOST, "--port", String(CHAIN_PORT)]);
  }
  await waitForRpc(rpcUrl);
  console.log(`[start] chain ready at ${rpcUrl}`);

  await runStep("deploy", hardhatBin, ["run", "scripts/deploy.ts", "--network", "localhost"], {
    RPC_URL: rpcUrl,
    FUND_LOCAL_ACCOUNTS: "true",
  });
  const deploymentFile = path.join(root, "deployments", "localhost.json");
  if (!existsSync(deploymentFile)) throw new Error(`deploy finished but wrote no ${deploymentFile}`);
  const deployment = JSON.parse(readFileSync(deploymentFile, "utf8"));

  console.log("\n=== perpx local exchange is up ===");
  console.log(`chain       ${rpcUrl} (chain id ${deployment.chainId})`);
  console.log(`deployment  ${path.relative(root, deploymentFile)}`);
  console.log(JSON.stringify(deployment, null, 2));
  console.log("Ctrl-C stops everything.\n");
}

main().catch((err: unknown) => {
  console.error(`[start] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
