// A throwaway Hardhat node for the keeper tests (one per mocha process, started on first use, killed
// at exit), clients, a fresh funded key per test, and a local TCP proxy that can be cut.
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import {
  createPublicClient,
  createWalletClient,
  http,
  type Address,
  type Hex,
  type PublicClient,
  type WalletClient,
  type Transport,
  type Chain,
  type Account,
  defineChain,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { deployExchange, type ExchangeDeployment } from "../../scripts/lib/deployExchange";

const ROOT = path.resolve(__dirname, "../..");

/** Hardhat's well-known dev keys (test mnemonic). */
export const DEV_KEYS: Hex[] = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
];

export const hardhatChain = defineChain({
  id: 31337,
  name: "hardhat",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: ["http://127.0.0.1:8545"] } },
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestChain {
  url: string;
  port: number;
  client: PublicClient;
  deployer: WalletClient<Transport, Chain, Account>;
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  mine(blocks?: number): Promise<void>;
  setAutomine(on: boolean): Promise<void>;
  /** A new key with 100 ETH. */
  fundedKey(): Promise<Hex>;
}

let chainPromise: Promise<TestChain> | undefined;
let child: ChildProcess | undefined;

process.on("exit", () => child?.kill("SIGKILL"));

export function testChain(): Promise<TestChain> {
  chainPromise ??= startChain();
  return chainPromise;
}

async function startChain(): Promise<TestChain> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  child = spawn(
    path.join(ROOT, "node_modules/.bin/hardhat"),
    ["node", "--hostname", "127.0.0.1", "--port", String(port)],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes("Started HTTP")) {
        child!.stdout!.off("data", onData);
        child!.stdout!.resume(); // keep draining
        resolve();
      }
    };
    child!.stdout!.on("data", onData);
    child!.stderr!.on("data", (d) => (out += d.toString()));
    child!.once("exit", (code) => reject(new Error(`hardhat node exited (${code}): ${out.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`hardhat node did not start: ${out.slice(-2000)}`)), 60_000);
  });
  const chain = { ...hardhatChain, rpcUrls: { default: { http: [url] } } };
  const client = createPublicClient({ chain, transport: http(url), cacheTime: 0, pollingInterval: 50 }) as PublicClient;
  const deployer = createWalletClient({ chain, transport: http(url), account: privateKeyToAccount(DEV_KEYS[0]) });
  const rpc = <T>(method: string, params: unknown[] = []) =>
    client.request({ method: method as never, params: params as never }) as Promise<T>;
  return {
    url,
    port,
    client,
    deployer,
    rpc,
    mine: async (blocks = 1) => {
      if (blocks === 1) await rpc("evm_mine");
      else await rpc("hardhat_mine", [`0x${blocks.toString(16)}`]);
    },
    setAutomine: (on) => rpc("evm_setAutomine", [on]),
    fundedKey: async () => {
      const key = generatePrivateKey();
      await rpc("hardhat_setBalance", [privateKeyToAccount(key).address, "0x56BC75E2D63100000"]);
      return key;
    },
  };
}

let deployment: Promise<ExchangeDeployment> | undefined;

/** The Exchange deployed once per process, accounts #1..#4 funded with 100k deposited. */
export function testExchange(): Promise<ExchangeDeployment & { chain: TestChain }> {
  deployment ??= testChain().then((c) =>
    deployExchange({ publicClient: c.client, walletClient: c.deployer, fund: [] }),
  );
  return Promise.all([deployment, testChain()]).then(([d, chain]) => ({ ...d, chain }));
}

/** A TCP proxy in front of the node that a test can cut (close every connection, refuse new ones). */
export class CuttableProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: number) {}

  async start(port = 0): Promise<void> {
    this.server = net.createServer((c) => {
      const up = net.connect(this.target, "127.0.0.1");
      this.sockets.add(c).add(up);
      const drop = () => {
        c.destroy();
        up.destroy();
        this.sockets.delete(c);
        this.sockets.delete(up);
      };
      c.on("error", drop).on("close", drop);
      up.on("error", drop).on("close", drop);
      c.pipe(up).pipe(c);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Drops every connection and stops listening. */
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
    this.server = undefined;
  }

  /** Listens again on the same port. */
  async restore(): Promise<void> {
    await this.start(this.port);
  }

  async stop(): Promise<void> {
    if (this.server) await this.cut();
  }
}

export function addressOf(key: Hex): Address {
  return privateKeyToAccount(key).address;
}
