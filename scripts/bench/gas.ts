// Gas benchmark of the Exchange (a benchmark, not a test): `npm run bench:gas`.
// Settlement goes through settlePacked (sdk/settlePacked.ts, what the keeper sends): those are the headline
// figures (settle_*); the same scenarios through the ABI entry point settle(Batch, bytes) are settle_abi_*.
// Prints gas per fill for batches of 1, 10, 50 and 100 fills (fresh orders; partially filled makers),
// fills per 30M-gas block, mass cancel, cancel, deposit, fast withdrawal, and the issue-3 cold paths (funding
// update, slow withdrawal claim, liquidation, escape register + claim); writes flat numeric figures to
// bench-results/gas.json. To add a figure: measure it in `coldPaths` (or after it, from a snapshot) and put
// it in `results` under a stable snake_case name (the lead and CI read the names).
//
// Setting, stated so the numbers can be judged: steady state. Every trader has traded before (its account
// word, BTC position and nonce-bitmap word already exist), as on a live exchange. Each fill has a distinct
// taker account; makers are 10 market-maker accounts with dense nonces. "fresh" = neither order was seen
// before; "partial maker" = each maker order was partially filled in an earlier batch and is filled again
// (still open afterwards). All fills charge full fees; every fill emits FillSettled, every touched position
// PositionChanged.
//
// Extra setting ("bitmap takers", batches of 50 and 100): every taker also has an older order left
// partially filled, so its account's NONCE_BITS flag is set: settlement reads its nonce-bitmap word (cold)
// and, as the new order's nonce is above the minimum, closes it in the bitmap (a write). This is the cost
// for traders who cancel or leave orders partially filled; the headline figures are for takers whose
// orders fill at their minimum nonce (the sdk's dense nonces), which skip the bitmap entirely.
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import { type Address, type Hex, type LocalAccount, keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deployExchange } from "../lib/deployExchange";
import { profileTx } from "./profile";
import { type Fill, type Order, exchangeDomain, signBatch, signOrder, signWithdrawal } from "../../sdk/eip712";
import { encodeSettlePacked } from "../../sdk/settlePacked";
import { feeCap } from "../../sdk/margin";
import { price, size, usd } from "../../sdk/units";

const BLOCK_GAS = 30_000_000n;
const MAKERS = 10;
const TAKERS = 100;
const PEERS = { "1inch limit-order v4 (one fill)": 99_228, "Seaport (one fill)": 108_556 };

async function main() {
  const publicClient = await hre.viem.getPublicClient();
  const [admin, user] = await hre.viem.getWalletClients();
  const operator = privateKeyToAccount(keccak256(toHex("bench-operator")));
  const d = await deployExchange({ publicClient, walletClient: admin, operator: operator.address });
  const exchange = await hre.viem.getContractAt("Exchange", d.exchange);
  const ext = await hre.viem.getContractAt("ExchangeExtension", d.exchange);
  const feeds = await Promise.all(d.markets.map((m) => hre.viem.getContractAt("MockAggregator", m.oracle)));
  /** Restamps every feed at its current answer (after a time jump, so none is stale). */
  const restamp = async () => {
    for (const f of feeds) await wait(await f.write.setAnswer([await f.read.answer()]));
  };
  const token = await hre.viem.getContractAt("MockUSD", d.collateral);
  const domain = exchangeDomain(await publicClient.getChainId(), d.exchange);
  const wait = async (hash: Hex) => publicClient.waitForTransactionReceipt({ hash });

  const makers = Array.from({ length: MAKERS }, (_, i) => privateKeyToAccount(keccak256(toHex(`bench-maker-${i}`))));
  const takers = Array.from({ length: TAKERS }, (_, i) => privateKeyToAccount(keccak256(toHex(`bench-taker-${i}`))));
  const all = [...makers, ...takers, { address: user.account.address } as LocalAccount];
  const each = usd("1000000");
  await wait(await token.write.mint([admin.account.address, each * BigInt(all.length)]));
  await wait(await token.write.approve([exchange.address, each * BigInt(all.length)]));
  for (const a of all) await wait(await exchange.write.depositFor([a.address, each]));

  const nonces = new Map<Address, bigint>();
  const nextNonce = (a: Address) => {
    const n = nonces.get(a) ?? 0n;
    nonces.set(a, n + 1n);
    return n;
  };
  const now = async () => (await publicClient.getBlock()).timestamp;
  const P = price("60000");
  const order = async (signer: LocalAccount, isBuy: boolean, sz: bigint) => {
    const o: Order = {
      account: signer.address,
      market: 0,
      isBuy,
      reduceOnly: false,
      price: P,
      size: sz,
      nonce: nextNonce(signer.address),
      expiry: (await now()) + 86_400n,
    };
    return { order: o, signature: await signOrder(signer, domain, o) };
  };
  const fillOf = (maker: number, taker: number, sz: bigint): Fill => ({
    maker,
    taker,
    size: sz,
    price: P,
    makerFee: feeCap(sz, P, -100n),
    takerFee: feeCap(sz, P, 500n),
  });
  let lastSettle: Hex | undefined;
  /** The entry point batches go through: settlePacked (the keeper's, headline figures) or settle (ABI). */
  let entry: "packed" | "abi" = "packed";
  const submit = async (orders: { order: Order; signature: Hex }[], fills: Fill[]) => {
    const batch = {
      number: (await exchange.read.nextBatchNumber()) as bigint,
      deadline: (await now()) + 3600n,
      orders: orders.map((o) => o.order),
      signatures: orders.map((o) => o.signature),
      fills,
    };
    const sig = await signBatch(operator, domain, batch);
    const r = await wait(
      entry === "packed"
        ? await admin.sendTransaction({ to: exchange.address, data: encodeSettlePacked(batch, sig) })
        : await exchange.write.settle([batch, sig]),
    );
    if (r.status !== "success") throw new Error("settle reverted");
    lastSettle = r.transactionHash;
    return r.gasUsed;
  };

  /** n fills: taker i buys from maker (i % MAKERS); maker orders fresh or partially filled before. */
  const batchOf = async (n: number, partialMakers: boolean) => {
    const q = size("0.01");
    const makerOrders = [];
    for (let i = 0; i < n; i++) makerOrders.push(await order(makers[i % MAKERS], false, partialMakers ? 3n * q : q));
    if (partialMakers) {
      // Pre-fill each maker order by q in an earlier batch (warm-up takers, separate accounts).
      const pre = [];
      for (let i = 0; i < n; i++) pre.push(await order(takers[(i + 50) % TAKERS], true, q));
      await submit(
        [...makerOrders, ...pre],
        makerOrders.map((_, i) => fillOf(i, n + i, q)),
      );
    }
    const takerOrders = [];
    for (let i = 0; i < n; i++) takerOrders.push(await order(takers[i], true, q));
    return submit(
      [...makerOrders, ...takerOrders],
      makerOrders.map((_, i) => fillOf(i, n + i, q)),
    );
  };

  // Warm-up: every account trades once, so its storage words exist (steady state).
  {
    const q = size("0.01");
    const orders = [];
    for (let i = 0; i < TAKERS; i++) orders.push(await order(makers[i % MAKERS], false, q));
    for (let i = 0; i < TAKERS; i++) orders.push(await order(takers[i], true, q));
    await submit(
      orders,
      Array.from({ length: TAKERS }, (_, i) => fillOf(i, TAKERS + i, q)),
    );
  }

  /** Bitmap takers: each of the first n takers leaves an order partially filled first (flag set). */
  const bitmapBatchOf = async (n: number) => {
    const q = size("0.01");
    const pre = [];
    for (let i = 0; i < n; i++) pre.push(await order(makers[i % MAKERS], false, q));
    for (let i = 0; i < n; i++) pre.push(await order(takers[i], true, 2n * q));
    await submit(
      pre,
      Array.from({ length: n }, (_, i) => fillOf(i, n + i, q)),
    );
    return batchOf(n, false);
  };

  /**
   * Funding update, slow withdrawal claim, liquidation, escape (register + claim). Setting: taker 0 holds a BTC
   * long from the warm-up (one open market), as does every taker; figures are for one such account.
   */
  const coldPaths = async () => {
    const out: Record<string, number> = {};
    const lines: [string, string, string][] = [];
    const g = async (hash: Hex) => (await wait(hash)).gasUsed;
    const admin_ = { account: admin.account };
    // The local keys that send transactions below need ether for gas.
    for (const a of [takers[0], takers[1], makers[1]]) {
      await hre.network.provider.send("hardhat_setBalance", [a.address, "0x56bc75e2d63100000"]);
    }

    // Funding update in steady state: the third update of the market (the first starts the clock, the second
    // makes the indices non-zero), accruing one interval.
    await wait(await ext.write.updateFunding([0, 100_000n], admin_));
    for (let i = 0; i < 2; i++) {
      await time.increase(3_600);
      await restamp();
      if (i === 0) await wait(await ext.write.updateFunding([0, 100_000n], admin_));
    }
    const fundingGas = await g(await ext.write.updateFunding([0, 100_000n], admin_));
    out.gas_funding_update = Number(fundingGas);
    lines.push(["funding update (updateFunding, steady state, accrues one interval)", `${fundingGas}`, ""]);

    // Slow withdrawal: request, wait the delay, claim (margin-checked at the oracle mark: one open position).
    const t0 = { account: takers[0] };
    await wait(await ext.write.requestWithdrawal([usd("100")], t0));
    const params = (await ext.read.exitParams()) as {
      slowWithdrawalDelay: number;
      forcedExitGracePeriod: number;
      exitWindow: number;
    };
    const delay = params.slowWithdrawalDelay;
    await time.increase(Number(delay) + 1);
    await restamp();
    const claimGas = await g(await ext.write.claimWithdrawal([takers[0].address], t0));
    out.gas_slow_withdrawal_claim = Number(claimGas);
    lines.push(["slow withdrawal claim (one open position, margin-checked)", `${claimGas}`, ""]);

    // Liquidation: a thin account buys 1 BTC at 10x, the mark drops 6%, a maker takes over part of it.
    {
      const thin = privateKeyToAccount(keccak256(toHex("bench-thin")));
      await wait(await token.write.mint([admin.account.address, usd("6100")]));
      await wait(await token.write.approve([exchange.address, usd("6100")]));
      await wait(await exchange.write.depositFor([thin.address, usd("6100")]));
      await submit(
        [await order(makers[0], false, size("1")), await order(thin, true, size("1"))],
        [fillOf(0, 1, size("1"))],
      );
      await wait(await feeds[0].write.setAnswer([price("56500") * 100n]));
      const maxSize = (await ext.read.maxLiquidationSize([thin.address, 0])) as bigint;
      const liqGas = await g(await ext.write.liquidate([thin.address, 0, maxSize], { account: makers[1] }));
      out.gas_liquidation = Number(liqGas);
      lines.push([`liquidation (partial, ${maxSize} of 1e8, one open market)`, `${liqGas}`, ""]);
      await wait(await feeds[0].write.setAnswer([P * 100n]));
    }

    // Escape: taker 1 files a forced exit, nobody serves it, anyone freezes; register, then claim after the window.
    {
      const t1 = { account: takers[1] };
      await wait(await ext.write.requestForcedExit([0n], t1));
      await time.increase(Number(params.forcedExitGracePeriod) + 1);
      await restamp();
      await wait(await ext.write.freeze([takers[1].address], admin_));
      const reg = await g(await ext.write.escapeRegister([takers[1].address], t1));
      await time.increase(Number(params.exitWindow) + 1);
      const claim = await g(await ext.write.escapeClaim([takers[1].address], t1));
      out.gas_escape_register = Number(reg);
      out.gas_escape_claim = Number(claim);
      out.gas_escape_register_plus_claim = Number(reg + claim);
      lines.push([
        "escape register + claim (one open position)",
        `${reg + claim}`,
        `register ${reg}, claim ${claim}; goal <= 200,000`,
      ]);
    }
    return { results: out, rows: lines };
  };

  const results: Record<string, number> = {};
  const rows: [string, string, string][] = [];
  const snap = await takeSnapshot();
  const savedNonces = new Map(nonces);
  // Headline figures: settlePacked (what the keeper sends). The same scenarios through the ABI entry point
  // settle(Batch, bytes) under the settle_abi_ prefix, for comparison.
  for (const e of ["packed", "abi"] as const) {
    entry = e;
    const prefix = e === "packed" ? "settle" : "settle_abi";
    const via = e === "packed" ? "settlePacked" : "settle (ABI)";
    const perFill: Record<string, Record<number, bigint>> = { fresh: {}, partial: {} };
    for (const kind of ["fresh", "partial"] as const) {
      for (const n of [1, 10, 50, 100]) {
        await snap.restore();
        nonces.clear();
        for (const [k, v] of savedNonces) nonces.set(k, v);
        const gas = await batchOf(n, kind === "partial");
        // GAS_PROFILE=1: where the gas of the batch of 50 fresh fills goes, by function and source line
        // (GAS_PROFILE=abi: the ABI entry point's).
        const profiled = process.env.GAS_PROFILE === "abi" ? "abi" : "packed";
        if (process.env.GAS_PROFILE && e === profiled && kind === "fresh" && n === 50) {
          await profileTx(hre, lastSettle!, "Exchange");
        }
        perFill[kind][n] = gas;
        const label = kind === "fresh" ? "fresh orders" : "partially filled makers";
        results[`${prefix}_${kind}_batch${n}_gas_total`] = Number(gas);
        results[`${prefix}_${kind}_batch${n}_gas_per_fill`] = Number(gas / BigInt(n));
        rows.push([`${via}, ${label}, batch of ${n}`, `${gas / BigInt(n)} / fill`, `${gas} total`]);
      }
    }
    for (const n of [50, 100]) {
      await snap.restore();
      nonces.clear();
      for (const [k, v] of savedNonces) nonces.set(k, v);
      const gas = await bitmapBatchOf(n);
      results[`${prefix}_bitmap_takers_batch${n}_gas_total`] = Number(gas);
      results[`${prefix}_bitmap_takers_batch${n}_gas_per_fill`] = Number(gas / BigInt(n));
      rows.push([`${via}, fresh orders, bitmap takers, batch of ${n}`, `${gas / BigInt(n)} / fill`, `${gas} total`]);
    }
    // Fills per 30M-gas block from the marginal cost between batches of 50 and 100 (fresh orders).
    for (const kind of ["fresh", "partial"] as const) {
      const marginal = (perFill[kind][100] - perFill[kind][50]) / 50n;
      const fixed = perFill[kind][100] - 100n * marginal;
      const fits = (BLOCK_GAS - fixed) / marginal;
      results[`${prefix}_${kind}_marginal_gas_per_fill`] = Number(marginal);
      results[`${prefix}_${kind}_fills_per_30M_block`] = Number(fits);
      rows.push([
        `${via}: fills per 30M-gas block (${kind})`,
        `${fits}`,
        `marginal ${marginal} gas/fill, fixed ${fixed}`,
      ]);
    }
  }
  entry = "packed";

  await snap.restore();
  // Mass cancel, single cancel, deposit and withdraw by an account that has traded before.
  const u = user.account;
  await wait(await exchange.write.setAgent([makers[0].address, 0n], { account: u }));
  const g = async (hash: Hex) => (await wait(hash)).gasUsed;
  const massCancel = await g(await exchange.write.raiseMinNonce([u.address, 1_000_000n], { account: u }));
  const o: Order = {
    account: u.address,
    market: 0,
    isBuy: true,
    reduceOnly: false,
    price: P,
    size: size("1"),
    nonce: 1_000_001n,
    expiry: (await now()) + 3600n,
  };
  const cancelOne = await g(await exchange.write.cancelOrder([o], { account: u }));
  await wait(await token.write.mint([u.address, usd("1000")]));
  await wait(await token.write.approve([exchange.address, usd("1000")], { account: u }));
  const dep = await g(await exchange.write.deposit([usd("500")], { account: u }));
  const deadline = (await now()) + 3600n;
  const nonce = ((await ext.read.withdrawalState([u.address])) as readonly bigint[])[0];
  const wsig = await signWithdrawal(operator, domain, {
    account: u.address,
    amount: usd("500"),
    to: u.address,
    nonce,
    deadline,
  });
  const wd = await g(await ext.write.withdraw([usd("500"), u.address, deadline, wsig], { account: u }));
  Object.assign(results, {
    mass_cancel_gas: Number(massCancel),
    cancel_order_gas: Number(cancelOne),
    deposit_gas: Number(dep),
    withdraw_gas: Number(wd),
  });
  rows.push(["mass cancel (raiseMinNonce), any number of open orders", `${massCancel}`, "goal < 30,000"]);
  rows.push(["cancel one order (cancelOrder)", `${cancelOne}`, ""]);
  rows.push(["deposit (existing account)", `${dep}`, ""]);
  rows.push(["fast withdrawal, operator co-signed (no open position)", `${wd}`, ""]);

  // ---- issue 3 cold paths (extension), each from the warmed-up snapshot; the escape freezes, so it is last.
  await snap.restore();
  const cold = await coldPaths();
  Object.assign(results, cold.results);
  rows.push(...cold.rows);
  for (const [name, gas] of Object.entries(PEERS)) rows.push([`peer: ${name}`, `${gas} / fill`, "published figure"]);

  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  console.log(
    `\nExchange gas (Hardhat network, hardfork ${(hre.network.config as { hardfork?: string }).hardfork ?? "default"}, solc 0.8.28 viaIR, optimizer 200 runs)\n`,
  );
  for (const r of rows) console.log(`${r[0].padEnd(w[0])}  ${r[1].padStart(w[1])}  ${r[2]}`);
  console.log(
    `\ngoals: <= 45,000 gas/fill at 50 fills: ${results.settle_fresh_batch50_gas_per_fill <= 45_000 ? "met" : "MISSED"}` +
      `; >= 600 fills per 30M block: ${results.settle_fresh_fills_per_30M_block >= 600 ? "met" : "MISSED"}` +
      `; mass cancel < 30,000: ${results.mass_cancel_gas < 30_000 ? "met" : "MISSED"}` +
      `; escape <= 200,000: ${results.gas_escape_register_plus_claim <= 200_000 ? "met" : "MISSED"}`,
  );
  const out = path.resolve(__dirname, "../../bench-results/gas.json");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
