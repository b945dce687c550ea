// `npm start`: boot the whole local exchange and stay up until Ctrl-C.
// A Hardhat node, the Exchange deployment (mock USD collateral, mock price feeds, BTC-USD and
// ETH-USD markets, funded local accounts #1..#5) written to deployments/localhost.json, then:
//   - with REDIS_URL: the matcher + gateway (`npm run matcher`) and the keeper (`npm run keeper`)
//     as two processes over Redis (and Postgres when DATABASE_URL is set, else PGlite);
//   - without REDIS_URL: ONE process runs the matcher, gateway and keeper (WITH_KEEPER=1), since
//     the in-process bus cannot cross processes; its streams persist in an append-only file.
//   - a demo market maker (account #1) and taker (account #2): scripts/demo/.
// Keys: operator = Hardhat account #0 (signs batches; also the deployer, hence FUNDING_ROLE: the funding
// bot sends from it), gas = account #9 (sends batches), liquidator = account #8 (funded and deposited: it
// takes liquidated positions over; the forced-exit server bot sends from it too, unless FORCED_EXIT_PRIVATE_KEY
// is set, and takes forced-exit positions over). The mock feeds are re-stamped from account #7.
// State of a fresh local chain lives under .data/stack (wiped at each start); with Redis and
// Postgres every run uses its own key prefix and schema.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import path from "node:path";
import { toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { MATCHER_NODE_FLAGS } from "../matcher/nodeFlags";
import { rpc, runStep, startService, stopOnSignals, waitForHttp, waitForRpc } from "./lib/processes";

const CHAIN_HOST = "127.0.0.1";
const CHAIN_PORT = Number(process.env.CHAIN_PORT ?? 8545);
const root = path.resolve(__dirname, "..");
const FUNDED_ACCOUNTS = 5;
const chainLog = path.join(root, ".data", "logs", "chain.log");
const hardhatBin = path.join(root, "node_modules", ".bin", "hardhat");
const tsxBin = path.join(root, "node_modules", ".bin", "tsx");
const stackDir = path.join(root, ".data", "stack");
const GATEWAY_PORT = Number(process.env.GATEWAY_PORT ?? 8080);
const METRICS_PORT = Number(process.env.METRICS_PORT ?? 9464);
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
const GAS_ACCOUNT = 9;
const LIQUIDATOR_ACCOUNT = 8;

/** Private key of a Hardhat default account (well known; local chains only). */
export function hardhatKey(index: number): `0x${string}` {
  return toHex(mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: index }).getHdKey().privateKey!);
}

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

  // The node's unlocked accounts #1..#5 become funded traders (#0 deploys and operates), #8 the liquidator.
  const all = await rpc<string[]>(rpcUrl, "eth_accounts");
  const accounts = all.slice(1, 1 + FUNDED_ACCOUNTS);
  await runStep("deploy", hardhatBin, ["run", "scripts/deploy.ts", "--network", "localhost"], {
    RPC_URL: rpcUrl,
    FUND: [...accounts, all[LIQUIDATOR_ACCOUNT]].join(","),
  });
  const deploymentFile = path.join(root, "deployments", "localhost.json");
  if (!existsSync(deploymentFile)) throw new Error(`deploy finished but wrote no ${deploymentFile}`);
  const deployment = JSON.parse(readFileSync(deploymentFile, "utf8"));

  // Services: state of this run, keys, ports.
  const runId = `r${Date.now().toString(36)}`;
  if (!external) rmSync(stackDir, { recursive: true, force: true });
  const redis = process.env.REDIS_URL || undefined;
  const pg = process.env.DATABASE_URL || undefined;
  const svcEnv: NodeJS.ProcessEnv = {
    RPC_URL: rpcUrl,
    DEPLOYMENT_FILE: deploymentFile,
    PORT: String(GATEWAY_PORT),
    METRICS_PORT: String(METRICS_PORT),
    OPERATOR_PRIVATE_KEY: process.env.OPERATOR_PRIVATE_KEY ?? hardhatKey(0),
    GAS_PRIVATE_KEY: process.env.GAS_PRIVATE_KEY ?? hardhatKey(GAS_ACCOUNT),
    LIQUIDATOR_PRIVATE_KEY: process.env.LIQUIDATOR_PRIVATE_KEY ?? hardhatKey(LIQUIDATOR_ACCOUNT),
    FUNDING_PRIVATE_KEY: process.env.FUNDING_PRIVATE_KEY ?? hardhatKey(0),
    MARK_REFRESH_ACCOUNT: "7",
    JOURNAL_NAME: `engine-${runId}`,
    JOURNAL_DIR: path.join(stackDir, "journal"),
    BRIDGE_DIR: path.join(stackDir, "bridge"),
    BUS_FILE: path.join(stackDir, "bus.log"),
    PGLITE_DIR: path.join(stackDir, "pglite"),
    BATCH_MAX_WAIT_MS: process.env.BATCH_MAX_WAIT_MS ?? "500",
    ...(redis ? { REDIS_PREFIX: `perpx:${runId}:` } : {}),
    ...(pg ? { DB_SCHEMA: `perpx_${runId}` } : {}),
  };
  const serviceLog = (name: string) => path.join(root, ".data", "logs", `${name}.log`);
  // the matcher runs with the node flags `npm run bench:matcher` measures with (tsx hands them to node)
  const matcherArgs = [...MATCHER_NODE_FLAGS, "matcher/main.ts"];
  if (redis) {
    startService("matcher", tsxBin, matcherArgs, svcEnv, serviceLog("matcher"));
    startService("keeper", tsxBin, ["keeper/main.ts"], svcEnv, serviceLog("keeper"));
  } else {
    startService("matcher", tsxBin, matcherArgs, { ...svcEnv, WITH_KEEPER: "1" }, serviceLog("matcher"));
  }
  const restUrl = `http://127.0.0.1:${GATEWAY_PORT}`;
  await waitForHttp(`${restUrl}/health`, 120_000);
  await waitForHttp(`http://127.0.0.1:${METRICS_PORT}/metrics`, 60_000);
  console.log(`[start] gateway ready at ${restUrl}`);
  const demoEnv = { REST_URL: restUrl, RPC_URL: rpcUrl, DEPLOYMENT_FILE: deploymentFile };
  if (process.env.DEMO !== "0") {
    startService(
      "maker",
      tsxBin,
      ["scripts/demo/maker.ts"],
      { ...demoEnv, PRIVATE_KEY: hardhatKey(1) },
      serviceLog("maker"),
    );
    startService(
      "taker",
      tsxBin,
      ["scripts/demo/taker.ts"],
      { ...demoEnv, PRIVATE_KEY: hardhatKey(2) },
      serviceLog("taker"),
    );
  }

  const rows: [string, string][] = [
    ["chain", `${rpcUrl} (chain id ${deployment.chainId})${external ? "" : `, log ${path.relative(root, chainLog)}`}`],
    ["deployment", `${path.relative(root, deploymentFile)} (block ${deployment.deploymentBlock})`],
    ...(["exchange", "collateral", "operator", "admin"] as const).map((k): [string, string] => [k, deployment[k]]),
    ...(deployment.markets as { id: number; symbol: string; oracle: string }[]).map((m): [string, string] => [
      `market ${m.id}`,
      `${m.symbol}, oracle ${m.oracle}`,
    ]),
    ["funded", (deployment.funded as string[]).join(", ") || "none"],
    ["REST", `${restUrl}/fapi/v3 (exchangeInfo, depth, order, positionRisk, ...), health ${restUrl}/health`],
    ["WebSocket", `${restUrl.replace("http", "ws")}/ws/<stream> e.g. /ws/btcusd@depth, /stream?streams=...`],
    ["metrics", `gateway ${restUrl}/metrics, keeper http://127.0.0.1:${METRICS_PORT}/metrics`],
    [
      "services",
      redis
        ? `matcher+gateway and keeper as two processes on Redis ${redis} (prefix perpx:${runId}:)`
        : "matcher+gateway+keeper in one process (in-process bus; file " + path.relative(root, svcEnv.BUS_FILE!) + ")",
    ],
    [
      "store",
      pg
        ? `Postgres ${pg.replace(/\/\/[^@/]*@/, "//***@")} schema perpx_${runId}`
        : `PGlite ${path.relative(root, svcEnv.PGLITE_DIR!)}`,
    ],
    [
      "keys",
      `operator = account #0, gas = account #${GAS_ACCOUNT}, liquidator = account #${LIQUIDATOR_ACCOUNT}, funding = account #0, forced exit = ${process.env.FORCED_EXIT_PRIVATE_KEY ? "FORCED_EXIT_PRIVATE_KEY" : `account #${LIQUIDATOR_ACCOUNT}`}`,
    ],
    [
      "bots",
      "liquidator (oracle marks, every block), funding updater (once per funding interval) and forced-exit server (serves requests at once) in the keeper",
    ],
    [
      "market data",
      `klines of settled trades from the store (${restUrl}/fapi/v1/klines), @forceOrder from liquidations`,
    ],
    ["demo", process.env.DEMO !== "0" ? "market maker = account #1, taker = account #2" : "off (DEMO=0)"],
    ["logs", path.relative(root, path.join(root, ".data", "logs")) + "/{chain,matcher,keeper,maker,taker}.log"],
  ];
  console.log("\n=== perpx local exchange is up ===");
  for (const [k, v] of rows) console.log(`${k.padEnd(12)} ${v}`);
  console.log("Ctrl-C stops everything.\n");
}

main().catch((err: unknown) => {
  console.error(`[start] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
