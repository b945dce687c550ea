// The mappings, run on a real Exchange's events: deploy on Hardhat's in-process chain, trade, cancel,
// withdraw, then feed every log through the compiled handlers (subgraph/tests/e2eHarness.ts) with a
// host that plays graph-node (store, log, conversions, keccak, BigInt) and compare the entities with
// the contract's own state. Also checks every saved entity against schema.graphql the way graph-node
// would refuse it (missing non-null fields, wrong value kinds).
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { keccak_256 } from "@noble/hashes/sha3";
import { type Address, type Hex, type Log, decodeEventLog, getAddress, hexToBytes } from "viem";
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
      const decoded = decodeEventLog({ abi: fx.exchange.abi, data: log.data, topics: log.topics });
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
    for (const w of [fx.alice, fx.bob, fx.carol, fx.dave]) {
      const a = getAddress(w.account.address);
      const [cash] = await fx.exchange.read.accountOf([a]);
      const pos = await fx.exchange.read.positionOf([a, BTC]);
      expect(big(entity("Account", a)!.cash), `cash of ${a}`).to.equal(cash);
      const p = entity("Position", positionId(a, BTC));
      expect(p ? big(p.size) : 0n, `position of ${a}`).to.equal(pos);
      if (pos > 0n) longs += pos;
    }
    expect(big(entity("Market", "0")!.openInterest)).to.equal(longs);
    expect(longs).to.equal(size("1.5")); // carol's long; alice 0.5 short, bob 1 short
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
    expect(big(x.feesAccrued) - big(x.feesWithdrawn)).to.equal(await fx.exchange.read.feesAccrued());
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
      expect(big(last.close), type).to.equal(price("61000"));
    }
  });

  it("cancels, agents, withdrawals, fees and roles", () => {
    const kinds = all("Cancel").map((c) => c.kind);
    expect(kinds.sort()).to.deep.equal(["MinNonce", "Order"]);
    expect(big(entity("Account", getAddress(fx.bob.account.address))!.minNonce)).to.equal(100n);
    const agent = all("Agent")[0];
    expect(agent.agent).to.equal(fx.stranger.account.address.toLowerCase());
    expect(big(agent.expiry)).to.equal(4_000_000_000n);
    expect(all("Withdrawal").map((w) => [w.kind, w.amount])).to.deep.equal([["Instant", usd("1000").toString()]]);
    expect(all("FeeWithdrawal").map((w) => w.amount)).to.deep.equal(["1"]);
    const roles = all("RoleMember").map((r) => r.roleName);
    expect(roles).to.include.members(["DEFAULT_ADMIN_ROLE", "OPERATOR_ROLE", "TREASURER_ROLE"]);
  });
});
