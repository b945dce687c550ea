// The mappings, run on a real Exchange's events: deploy on Hardhat's in-process chain, trade, cancel,
// withdraw, then feed every log through the compiled handlers (subgraph/tests/e2eHarness.ts) with a
// host that plays graph-node (store, log, conversions, keccak, BigInt) and compare the entities with
// the contract's own state. Also checks every saved entity against schema.graphql the way graph-node
// would refuse it (missing non-null fields, wrong value kinds).
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { keccak_256 } from "@noble/hashes/sha3";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { type Abi, type Address, type Hex, type Log, decodeEventLog, getAddress, hexToBytes } from "viem";
import {
  BTC,
  type Fx,
  deployFixture,
  fastWithdraw,
  fill,
  makeOrder,
  price,
  settle,
  size,
  usd,
} from "../contracts/helpers";
import { HANDLERS, type AbiParam, SUBGRAPH_DIR, readExchangeAbi } from "../../subgraph/scripts/manifest";
import { AsMemory, type Exports, type Ptr, compileAs } from "./wasmHost";
import { E2E_HARNESS, prepareSubgraph } from "./prepare";

type Json = Record<string, unknown> & { __kinds: Record<string, number> };

// graph-ts common/value.ts ValueKind
const KIND = { STRING: 0, INT: 1, BIGDECIMAL: 2, BOOL: 3, ARRAY: 4, NULL: 5, BYTES: 6, BIGINT: 7, INT8: 8 };

/** Entity types of schema.graphql: each field's type, whether it is non-null, and the id type. */
function parseSchema(): Map<string, Map<string, { type: string; required: boolean; list: boolean }>> {
  const text = fs.readFileSync(path.join(SUBGRAPH_DIR, "schema.graphql"), "utf8").replace(/"""[\s\S]*?"""/g, "");
  const out = new Map<string, Map<string, { type: string; required: boolean; list: boolean }>>();
  for (const m of text.matchAll(/^type\s+(\w+)\s+@entity[^{]*\{([\s\S]*?)^\}/gm)) {
    const fields = new Map<string, { type: string; required: boolean; list: boolean }>();
    for (const line of m[2].split("\n")) {
      const f = /^\s*(\w+)\s*:\s*(\[?)(\w+)!?\]?(!?)\s*(@derivedFrom)?/.exec(line);
      if (!f || f[5]) continue;
      fields.set(f[1], { type: f[3], required: line.replace(/@.*/, "").trim().endsWith("!"), list: f[2] === "[" });
    }
    out.set(m[1], fields);
  }
  return out;
}

describe("subgraph mappings on a real Exchange's events", function () {
  this.timeout(240_000);

  const store = new Map<string, Map<string, Ptr>>();
  const logs: { level: number; msg: string }[] = [];
  const handled = new Map<string, number>();
  let mem: AsMemory;
  let exp: Exports;
  let fx: Fx;
  let exchangeLogs: Log[];

  const entity = (type: string, id: string): Json | undefined => {
    const p = store.get(type)?.get(id.toLowerCase());
    return p === undefined ? undefined : (JSON.parse(mem.readString(exp.entityJson(p) as Ptr)) as Json);
  };
  const all = (type: string): Json[] =>
    [...(store.get(type)?.values() ?? [])].map((p) => JSON.parse(mem.readString(exp.entityJson(p) as Ptr)) as Json);
  const big = (v: unknown) => BigInt(v as string);
  const positionId = (a: Address, market: number) =>
    a.toLowerCase() + Buffer.from(new Int32Array([market]).buffer).toString("hex");

  before(async () => {
    await prepareSubgraph();
    const wasm = await compileAs(E2E_HARNESS);

    mem = new AsMemory();
    const clone = (p: Ptr) => exp.cloneEntity(p) as Ptr;
    const imports = {
      env: { abort: mem.abort },
      numbers: {
        ...mem.bigIntImports(),
        "bigDecimal.toString": () => {
          throw new Error("BigDecimal is not used by the mappings");
        },
      },
      conversion: mem.typeConversionImports(),
      index: {
        "store.get": (type: Ptr, id: Ptr) => {
          const p = store.get(mem.readString(type))?.get(mem.readString(id));
          return p === undefined ? 0 : clone(p);
        },
        "store.set": (type: Ptr, id: Ptr, data: Ptr) => {
          const t = mem.readString(type);
          if (!store.has(t)) store.set(t, new Map());
          store.get(t)!.set(mem.readString(id), clone(data));
        },
        "log.log": (level: number, msg: Ptr) => {
          const text = mem.readString(msg);
          logs.push({ level, msg: text });
          if (level === 0) throw new Error(`critical log: ${text}`);
        },
        "crypto.keccak256": (p: Ptr) => mem.writeBytes(keccak_256(mem.readBytes(p))),
      },
    };
    const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasm), imports as WebAssembly.Imports);
    mem.exports = instance.exports as Exports;
    exp = mem.ex;

    // ---- the chain: deploy (lists markets, grants roles, funds and deposits for alice..dave), then act
    fx = await deployFixture();
    const { alice, bob, carol, dave, stranger, treasurer, exchange } = fx;
    await exchange.write.setAgent([stranger.account.address, 4_000_000_000n], { account: alice.account });
    // batch: alice buys 1 BTC at 60,000 from bob
    const bobSell = await makeOrder(fx, bob, { isBuy: false, price: price("60000"), size: size("1") });
    const aliceBuy = await makeOrder(fx, alice, { isBuy: true, price: price("60000"), size: size("1") });
    await settle(fx, [bobSell, aliceBuy], [fill(0, 1, size("1"), price("60000"))]);
    // batch: alice sells 1.5 at 61,000 to carol (closes her long, opens 0.5 short); dave's expired order is skipped
    const aliceSell = await makeOrder(fx, alice, { isBuy: false, price: price("61000"), size: size("1.5") });
    const carolBuy = await makeOrder(fx, carol, { isBuy: true, price: price("61000"), size: size("2") });
    const daveSell = await makeOrder(fx, dave, { isBuy: false, price: price("61000"), size: size("0.5"), expiry: 1n });
    await settle(
      fx,
      [aliceSell, carolBuy, daveSell],
      [fill(0, 1, size("1.5"), price("61000")), fill(2, 1, size("0.5"), price("61000"))],
    );
    // cancels, a withdrawal, fees out
    await exchange.write.cancelOrder([carolBuy.order], { account: carol.account });
    await exchange.write.raiseMinNonce([bob.account.address, 100n], { account: bob.account });
    await fastWithdraw(fx, bob, usd("1000")); // operator co-signed (Withdrawals.sol)
    await exchange.write.withdrawFees([treasurer.account.address, 1n], { account: treasurer.account });

    // ---- issue 3: slow withdrawals, insurance, funding, forced exit, liquidation into bad debt, pause, freeze
    const { ext, admin, guardian, token, btcFeed, ethFeed } = fx;
    const restamp = async (btc = price("60000")) => {
      await btcFeed.write.setAnswer([btc * 100n]); // 8-decimal feed
      await ethFeed.write.setAnswer([price("3000") * 100n]);
    };
    const params = await ext.read.exitParams();
    // dave: a request replaced by another, cancelled, a third one claimed after the delay
    await ext.write.requestWithdrawal([usd("500")], { account: dave.account });
    await ext.write.requestWithdrawal([usd("450")], { account: dave.account });
    await ext.write.cancelWithdrawal({ account: dave.account });
    await ext.write.requestWithdrawal([usd("400")], { account: dave.account });
    await time.increase(params.slowWithdrawalDelay + 1);
    await restamp();
    await ext.write.claimWithdrawal([dave.account.address], { account: dave.account });
    // insurance: fees moved in by the treasurer, a deposit by alice
    await ext.write.moveFeesToInsurance([usd("10")], { account: treasurer.account });
    await token.write.approve([fx.deployment.exchange, usd("100")], { account: alice.account });
    await ext.write.depositInsurance([usd("100")], { account: alice.account });
    // funding: parameters, a first update (starts the clock), one interval later a second (accrues)
    await ext.write.setFundingParams([3600, 1_000_000, 250_000], { account: admin.account });
    await ext.write.updateFunding([BTC, 100_000n], { account: admin.account });
    await time.increase(3600);
    await restamp();
    await ext.write.updateFunding([BTC, 200_000n], { account: admin.account });
    // carol (long 1.5) files a forced exit; dave takes her position over at the mark
    await ext.write.requestForcedExit([0n], { account: carol.account });
    await ext.write.serveForcedExit([carol.account.address, BTC], { account: dave.account });
    // dave takes his cash out down to the initial margin, the price falls: bankrupt; stranger liquidates all
    await fastWithdraw(fx, dave, usd("90000"));
    await token.write.approve([fx.deployment.exchange, usd("30000")], { account: alice.account });
    await exchange.write.depositFor([stranger.account.address, usd("30000")], { account: alice.account });
    await restamp(price("50000"));
    await ext.write.liquidate([dave.account.address, BTC, size("1.5")], { account: stranger.account });
    await restamp();
    // a guardian pause and its end; the exit parameters set again (same values)
    await ext.write.pause({ account: guardian.account });
    await ext.write.unpause({ account: guardian.account });
    await ext.write.setExitParams([params], { account: admin.account });
    // bob (short) files a forced exit nobody serves: after the grace period anyone freezes; bob escapes
    await ext.write.requestForcedExit([0n], { account: bob.account });
    await time.increase(params.forcedExitGracePeriod + 1);
    await restamp();
    await ext.write.freeze([bob.account.address], { account: stranger.account });
    await ext.write.escapeRegister([bob.account.address], { account: stranger.account });
    await time.increase(params.exitWindow + 1);
    await ext.write.escapeClaim([bob.account.address], { account: bob.account });

    // ---- the subgraph: every Exchange log, in chain order, through its handler
    exchangeLogs = await fx.publicClient.getLogs({ address: fx.deployment.exchange, fromBlock: 0n });
    const abi = readExchangeAbi();
    const blocks = new Map<bigint, bigint>();
    const senders = new Map<string, Address>();
    const toValue = (p: AbiParam, v: unknown): Ptr => {
      if (p.type === "address") return exp.valueAddress(mem.writeBytes(hexToBytes(v as Hex))) as Ptr;
      if (p.type === "bool") return exp.valueBool(v ? 1 : 0) as Ptr;
      if (/^bytes\d+$/.test(p.type)) return exp.valueFixedBytes(mem.writeBytes(hexToBytes(v as Hex))) as Ptr;
      if (p.type.startsWith("uint")) return exp.valueUint(mem.writeBigInt(BigInt(v as bigint))) as Ptr;
      if (p.type.startsWith("int")) return exp.valueInt(mem.writeBigInt(BigInt(v as bigint))) as Ptr;
      if (p.type.endsWith("]")) {
        const inner = { ...p, type: p.type.slice(0, p.type.lastIndexOf("[")) };
        const values = exp.newValues() as Ptr;
        for (const x of v as unknown[]) exp.pushValue(values, toValue(inner, x));
        return exp.valueArray(values) as Ptr;
      }
      if (p.type === "bytes") return exp.valueBytes(mem.writeBytes(hexToBytes(v as Hex))) as Ptr;
      if (p.type === "string") return exp.valueString(mem.writeString(v as string)) as Ptr;
      if (p.type === "tuple") {
        const values = exp.newValues() as Ptr;
        for (const c of p.components ?? []) exp.pushValue(values, toValue(c, (v as Record<string, unknown>)[c.name]));
        return exp.valueTuple(values) as Ptr;
      }
      throw new Error(`test host: no ethereum.Value for ${p.type}`);
    };
    for (const log of exchangeLogs) {
      const decoded = decodeEventLog({ abi: abi as Abi, data: log.data, topics: log.topics });
      const item = abi.find((x) => x.type === "event" && x.name === decoded.eventName)!;
      const args = decoded.args as unknown as Record<string, unknown>;
      const params = exp.newParams() as Ptr;
      for (const p of item.inputs ?? []) exp.pushParam(params, mem.writeString(p.name), toValue(p, args[p.name]));
      if (!blocks.has(log.blockNumber!)) {
        blocks.set(log.blockNumber!, (await fx.publicClient.getBlock({ blockNumber: log.blockNumber! })).timestamp);
      }
      if (!senders.has(log.transactionHash!)) {
        senders.set(log.transactionHash!, (await fx.publicClient.getTransaction({ hash: log.transactionHash! })).from);
      }
      const event = exp.newEvent(
        mem.writeBytes(hexToBytes(log.address)),
        mem.writeBigInt(BigInt(log.logIndex!)),
        mem.writeBytes(hexToBytes(log.blockHash!)),
        mem.writeBigInt(log.blockNumber!),
        mem.writeBigInt(blocks.get(log.blockNumber!)!),
        mem.writeBytes(hexToBytes(log.transactionHash!)),
        mem.writeBytes(hexToBytes(senders.get(log.transactionHash!)!)),
        params,
      ) as Ptr;
      const handler = HANDLERS[decoded.eventName];
      expect(handler, `handler for ${decoded.eventName}`).to.be.a("string");
      exp[handler](event);
      handled.set(decoded.eventName, (handled.get(decoded.eventName) ?? 0) + 1);
    }
  });

  it("ran every kind of event the scenario emits, without error logs", () => {
    for (const name of [
      "MarketListed",
      "RoleGranted",
      "Deposit",
      "AgentSet",
      "FillSettled",
      "FillSkipped",
      "PositionChanged",
      "BatchSettled",
      "OrderCancelled",
      "MinNonceRaised",
      "Withdraw",
      "FeesWithdrawn",
      "WithdrawalRequested",
      "WithdrawalCancelled",
      "FeesMovedToInsurance",
      "InsuranceDeposited",
      "FundingParamsSet",
      "FundingUpdated",
      "ForcedExitRequested",
      "ForcedExitTakeover",
      "ForcedExitServed",
      "Liquidated",
      "BadDebt",
      "LossSocialized",
      "Paused",
      "Unpaused",
      "ExitParamsSet",
      "Frozen",
      "FinalPriceSet",
      "EscapeRegistered",
      "EscapeClaimed",
    ]) {
      expect(handled.get(name) ?? 0, name).to.be.greaterThan(0);
    }
    expect(logs.filter((l) => l.level <= 2)).to.deep.equal([]);
  });

  it("saves only entities graph-node would accept: every non-null field set, values of the schema's kinds", () => {
    const schema = parseSchema();
    const kindOf = (type: string): number[] => {
      if (type === "BigInt") return [KIND.BIGINT];
      if (type === "Bytes") return [KIND.BYTES];
      if (type === "Int") return [KIND.INT];
      if (type === "Int8") return [KIND.INT8];
      if (type === "Boolean") return [KIND.BOOL];
      if (type === "String" || type === "ID") return [KIND.STRING];
      const ref = schema.get(type);
      if (ref) return kindOf(ref.get("id")!.type); // a reference holds the referenced entity's id
      return [KIND.STRING]; // enum
    };
    expect(store.size).to.be.greaterThan(10);
    for (const [type, rows] of store) {
      const fields = schema.get(type);
      expect(fields, `entity type ${type} in schema.graphql`).to.not.equal(undefined);
      for (const id of rows.keys()) {
        const e = entity(type, id)!;
        for (const [name, f] of fields!) {
          const kind = e.__kinds[name];
          if (f.required) expect(kind ?? KIND.NULL, `${type} ${id}: ${name} is required`).to.not.equal(KIND.NULL);
          if (kind === undefined || kind === KIND.NULL) continue;
          expect(f.list ? [KIND.ARRAY] : kindOf(f.type), `${type} ${id}: ${name}`).to.include(kind);
        }
        for (const name of Object.keys(e.__kinds))
          expect(fields!.has(name), `${type}.${name} in the schema`).to.equal(true);
      }
    }
  });

  it("accounts and positions equal the contract's cash and positions", async () => {
    let longs = 0n;
    for (const w of [fx.alice, fx.bob, fx.carol, fx.dave, fx.stranger]) {
      const a = getAddress(w.account.address);
      const [cash] = await fx.exchange.read.accountOf([a]);
      const pos = await fx.exchange.read.positionOf([a, BTC]);
      expect(big(entity("Account", a)!.cash), `cash of ${a}`).to.equal(cash);
      const p = entity("Position", positionId(a, BTC));
      expect(p ? big(p.size) : 0n, `position of ${a}`).to.equal(pos);
      if (pos > 0n) longs += pos;
    }
    expect(big(entity("Market", "0")!.openInterest)).to.equal(longs);
    // carol's long 1.5, taken over by dave, liquidated into stranger; alice 0.5 short, bob 1 short
    expect(longs).to.equal(size("1.5"));
  });

  it("books average-cost PnL and entry prices from the fills", () => {
    const alice = getAddress(fx.alice.account.address);
    const p = entity("Position", positionId(alice, BTC))!;
    expect(big(p.size)).to.equal(-size("0.5"));
    expect(big(p.entryPrice)).to.equal(price("61000"));
    expect(big(p.cost)).to.equal(-usd("30500"));
    expect(big(p.realizedPnl)).to.equal(usd("1000"));
    expect(big(entity("Account", alice)!.realizedPnl)).to.equal(usd("1000"));
    const bob = entity("Position", positionId(getAddress(fx.bob.account.address), BTC))!;
    expect(big(bob.entryPrice)).to.equal(price("60000"));
  });

  it("batches: the fee pool of their fills adds up to BatchSettled.fees, and the Exchange's fees to the contract's", async () => {
    const fills = all("Fill");
    expect(fills).to.have.length(2);
    const batches = all("Batch");
    expect(batches.map((b) => [b.number, b.settled, b.skipped])).to.deep.equal([
      ["0", "1", "0"],
      ["1", "1", "1"],
    ]);
    for (const b of batches) {
      const pool = fills.filter((f) => f.batch === b.id).reduce((s, f) => s + big(f.feePool), 0n);
      expect(pool, `batch ${b.id}`).to.equal(big(b.fees));
    }
    const x = entity("Exchange", fx.deployment.exchange)!;
    expect(big(x.feesAccrued) - big(x.feesWithdrawn) - big(x.feesToInsurance)).to.equal(
      await fx.exchange.read.feesAccrued(),
    );
    const skipped = all("SkippedFill");
    expect(skipped.map((s) => s.reason)).to.deep.equal(["Expired"]);
    expect(all("PositionSnapshot")).to.have.length(handled.get("PositionChanged")!);
  });

  it("market stats: volume, trades and open interest by hour and day", () => {
    const m = entity("Market", "0")!;
    expect(m.symbol).to.equal("BTC-USD");
    expect(big(m.volume)).to.equal(usd("60000") + usd("91500"));
    expect(big(m.trades)).to.equal(2n);
    for (const type of ["MarketHourlyStat", "MarketDailyStat"]) {
      const stats = all(type).filter((s) => s.market === "0");
      expect(
        stats.reduce((s, x) => s + big(x.volume), 0n),
        type,
      ).to.equal(big(m.volume));
      expect(
        stats.reduce((s, x) => s + big(x.trades), 0n),
        type,
      ).to.equal(2n);
      const last = stats.sort((a, b) => Number(big(a.periodStart) - big(b.periodStart))).at(-1)!;
      expect(big(last.openInterest), type).to.equal(big(m.openInterest));
      // later periods (days later: liquidation, takeover) moved open interest without trades
      const lastTraded = stats.filter((x) => big(x.trades) > 0n).at(-1)!;
      expect(big(lastTraded.close), type).to.equal(price("61000"));
      expect(
        stats.filter((x) => big(x.trades) === 0n).every((x) => x.close === undefined || x.close === null),
      ).to.equal(true);
    }
  });

  it("cancels, agents, withdrawals, fees and roles", () => {
    const kinds = all("Cancel").map((c) => c.kind);
    expect(kinds.sort()).to.deep.equal(["MinNonce", "Order"]);
    expect(big(entity("Account", getAddress(fx.bob.account.address))!.minNonce)).to.equal(100n);
    const agent = all("Agent")[0];
    expect(agent.agent).to.equal(fx.stranger.account.address.toLowerCase());
    expect(big(agent.expiry)).to.equal(4_000_000_000n);
    expect(all("Withdrawal").map((w) => [w.kind, w.amount])).to.deep.equal([
      ["Instant", usd("1000").toString()],
      ["Slow", usd("400").toString()],
      ["Instant", usd("90000").toString()],
    ]);
    expect(all("FeeWithdrawal").map((w) => w.amount)).to.deep.equal(["1"]);
    const roles = all("RoleMember").map((r) => r.roleName);
    expect(roles).to.include.members(["DEFAULT_ADMIN_ROLE", "OPERATOR_ROLE", "TREASURER_ROLE"]);
  });

  it("withdrawal requests: replaced, cancelled, claimed; forced exits served or pending", () => {
    const reqs = all("WithdrawalRequest").sort((a, b) => Number(big(a.requestedAt) - big(b.requestedAt)));
    const dave = fx.dave.account.address.toLowerCase();
    expect(reqs.filter((r) => r.account === dave).map((r) => [r.kind, r.amount, r.status])).to.deep.equal([
      ["Slow", usd("500").toString(), "Replaced"],
      ["Slow", usd("450").toString(), "Cancelled"],
      ["Slow", usd("400").toString(), "Claimed"],
    ]);
    const forced = reqs.filter((r) => r.kind === "Forced");
    expect(forced.map((r) => [r.account, r.status])).to.deep.equal([
      [fx.carol.account.address.toLowerCase(), "Served"],
      [fx.bob.account.address.toLowerCase(), "Pending"],
    ]);
    expect(big(forced[0].fee) > 0n).to.equal(true);
    const slow = all("Withdrawal").find((w) => w.kind === "Slow")!;
    expect(slow.request).to.equal(reqs.find((r) => r.status === "Claimed")!.id);
    expect(entity("Account", getAddress(fx.dave.account.address))!.pendingWithdrawal ?? null).to.equal(null);
  });

  it("insurance fund, funding indices, liquidation into bad debt and the socialised loss match the contract", async () => {
    const x = entity("Exchange", fx.deployment.exchange)!;
    expect(big(x.insuranceFund)).to.equal(await fx.ext.read.insuranceFund());
    expect(all("InsuranceChange").map((c) => c.kind)).to.include.members([
      "FeesMoved",
      "Deposit",
      "ForcedExitFee",
      "Liquidation",
    ]);
    const m = entity("Market", "0")!;
    const [longIndex, shortIndex, lastRate] = await fx.ext.read.fundingState([BTC]);
    expect(big(m.longFundingIndex)).to.equal(longIndex);
    expect(big(m.shortFundingIndex)).to.equal(shortIndex); // funding and the socialised loss
    expect(big(m.fundingRate)).to.equal(lastRate);
    const fu = all("FundingUpdate").sort((a, b) => Number(big(a.timestamp) - big(b.timestamp)));
    expect(fu.map((f) => [f.requestedRate, f.appliedRate])).to.deep.equal([
      ["100000", "100000"],
      ["200000", "200000"],
    ]);
    expect(big(fu[0].indexDelta)).to.equal(0n); // the first update starts the clock
    expect(big(fu[1].indexDelta)).to.equal(longIndex); // no loss was charged to the longs
    const [liq] = all("Liquidation");
    expect([liq.account, liq.liquidator, big(liq.sizeDelta), big(liq.price)]).to.deep.equal([
      fx.dave.account.address.toLowerCase(),
      fx.stranger.account.address.toLowerCase(),
      -size("1.5"),
      price("50000"),
    ]);
    const [bad] = all("BadDebt");
    expect(big(bad.coveredByInsurance) + big(bad.socialised)).to.equal(big(bad.amount));
    expect(big(bad.socialised) > 0n).to.equal(true); // the fund was short
    const [soc] = all("SocializedLoss");
    expect(soc.chargeLongs).to.equal(false); // dave was long: the shorts profited
    expect(big(x.socializedLoss)).to.equal(big(soc.amount));
    expect(x.liquidationCount).to.equal("1");
    // the liquidator's position: taken over at the mark
    const p = entity("Position", positionId(getAddress(fx.stranger.account.address), BTC))!;
    expect([big(p.size), big(p.entryPrice)]).to.deep.equal([size("1.5"), price("50000")]);
    const causes = all("PositionSnapshot").map((s) => s.cause);
    expect(causes.filter((c) => c === "Liquidation")).to.have.length(4); // takeover and liquidation, two sides each
  });

  it("pause, parameters, freeze with final prices, and the escape", async () => {
    const x = entity("Exchange", fx.deployment.exchange)!;
    expect(all("PauseChange").map((p) => p.action)).to.deep.equal(["Paused", "Unpaused"]);
    expect(x.paused).to.equal(false);
    expect(
      all("ParamsChange")
        .map((c) => c.kind)
        .sort(),
    ).to.deep.equal(["Exit", "Funding"]);
    expect(x.frozen).to.equal(true);
    const [frozenAt] = await fx.ext.read.exitStatus();
    expect(big(x.frozenAt)).to.equal(frozenAt);
    const [fr] = all("Freeze");
    const bob = fx.bob.account.address.toLowerCase();
    expect([fr.caller, fr.account]).to.deep.equal([fx.stranger.account.address.toLowerCase(), bob]);
    expect(fr.request).to.equal(all("WithdrawalRequest").find((r) => r.kind === "Forced" && r.account === bob)!.id);
    expect(big(entity("Market", "0")!.finalPrice)).to.equal(price("60000"));
    const esc = entity("Escape", getAddress(fx.bob.account.address))!;
    const [, state, claim] = await fx.ext.read.exitOf([getAddress(fx.bob.account.address)]);
    expect(state).to.equal(2); // claimed
    expect(big(esc.claim)).to.equal(claim);
    expect(big(esc.paid)).to.equal(claim); // the pool covers every claim
    expect(big(x.escapePaid)).to.equal(claim);
  });
});
