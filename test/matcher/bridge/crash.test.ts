// The bridge across crashes, simulated in process: at each dangerous point the "process" dies (every
// further call of its bus and bridge state hangs forever, nothing after that point runs), then a new
// venue + bridge start on the same journal, bus and bridge state, as `matcher/main.ts` wires them.
// Invariants: every journaled trade reaches FILLS exactly once, in order; every MATCHER_COMMANDS
// entry applies exactly once.
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MemoryBus, type Bus } from "../../../keeper/bus";
import { FILLS, MATCHER_COMMANDS } from "../../../keeper/topics";
import type { FillMessage, SignedOrderJson } from "../../../keeper/settler/types";
import { FileJournal, replayWholeJournal, WholeReplayRulesError } from "../../../matcher";
import { Bridge, type BridgeOptions } from "../../../matcher/bridge/bridge";
import { FileBridgeState, type BridgeState, type Cursors } from "../../../matcher/bridge/state";
import { OrderVerifier } from "../../../matcher/gateway/auth/order";
import { JournaledVenue } from "../../../matcher/gateway/venue/journaled";
import type { Ack, VenueEvent } from "../../../matcher/gateway/venue/types";
import { btc, lots, px, USD } from "../helpers";

const never = <T>(): Promise<T> => new Promise<T>(() => {});

/** One process's view of the durable stores: once dead, every call hangs. */
class Proc {
  dead = false;
  /** Dies at the first call for which this returns true (checked before the call runs). */
  killBefore: (what: string, arg: unknown) => boolean = () => false;
  /** Dies right after the first call for which this returns true. */
  killAfter: (what: string, arg: unknown) => boolean = () => false;
  private onDie: () => void = () => {};
  readonly died: Promise<void>;

  constructor() {
    this.died = new Promise<void>((r) => (this.onDie = r));
  }

  die(): void {
    this.dead = true;
    this.onDie();
  }

  async call<T>(what: string, arg: unknown, f: () => Promise<T>): Promise<T> {
    if (this.dead) return never();
    if (this.killBefore(what, arg)) {
      this.die();
      return never();
    }
    const r = await f();
    if (this.dead) return never();
    if (this.killAfter(what, arg)) {
      this.die();
      return never();
    }
    return r;
  }

  bus(b: Bus): Bus {
    return new Proxy(b, {
      get: (t, k) => {
        const v = Reflect.get(t, k) as unknown;
        if (typeof v !== "function") return v;
        if (k === "close") return () => Promise.resolve();
        return (...args: unknown[]) =>
          this.call(`bus.${String(k)}`, args[0], () => (v as (...a: unknown[]) => Promise<unknown>).apply(t, args));
      },
    });
  }

  state(s: BridgeState): BridgeState {
    return {
      putOrder: (h, o) => this.call("putOrder", h, () => s.putOrder(h, o)),
      getOrder: (h) => (this.dead ? never() : s.getOrder(h)),
      loadCursors: () => s.loadCursors(),
      saveCursors: (c: Cursors) => this.call("saveCursors", c, () => s.saveCursors(c)),
      close: () => s.close(),
    };
  }
}

const market = btc({ id: 1 });
const signed = (h: string): SignedOrderJson => ({ order: { hash: h } as never, signature: "0x01" });

describe("bridge: crash safety (journal <-> bus)", function () {
  let dir: string;
  let bus: MemoryBus;
  const procs: Proc[] = [];
  const venues: JournaledVenue[] = [];

  let hooks: Set<unknown>;

  beforeEach(() => {
    hooks = new Set(OrderVerifier.onVerified);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bridge-crash-"));
    bus = new MemoryBus(path.join(dir, "bus.log"));
  });
  afterEach(async () => {
    for (const p of procs) p.die();
    // the bridges of dead "processes" must not keep their order hook (it would hang other tests)
    for (const h of [...OrderVerifier.onVerified]) if (!hooks.has(h)) OrderVerifier.onVerified.delete(h);
    // their venues still write (journal groups, a snapshot): closing waits for that, so the directory is
    // not removed under a write (ENOTEMPTY, 1 run in ~4)
    await Promise.all(venues.map((v) => v.close()));
    venues.length = 0;
    procs.length = 0;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Start a "process": venue recovered from the journal, bridge started as main.ts does (`over`: bridge options instead). */
  async function boot(setup?: (p: Proc) => void, snapshotEvery = 100_000, over: Partial<BridgeOptions> = {}) {
    const p = new Proc();
    procs.push(p);
    setup?.(p);
    const journal = await FileJournal.open(dir, "engine");
    const replayed: VenueEvent[] = [];
    const venue = await JournaledVenue.open([market], journal, snapshotEvery, (evs) => {
      for (const e of evs) if (e.kind === "trade") replayed.push(e);
    });
    venues.push(venue);
    const state = p.state(new FileBridgeState(path.join(dir, "bridge")));
    const bridge = new Bridge({
      venue,
      bus: p.bus(bus),
      state,
      journal,
      replayed,
      lastTradeId: () => venue.engine.nextTradeId - 1,
      replayAll: () => replayWholeJournal(journal, { markets: [market] }),
      blockMs: 20,
      ...over,
    });
    await Promise.race([bridge.start(), p.died]);
    return { p, venue, bridge, state };
  }

  async function fills(): Promise<number[]> {
    return (await bus.read<FillMessage>(FILLS, "0", { count: 10_000 })).map((e) => e.data.tradeId);
  }

  const cash = (v: JournaledVenue, a: string) => v.engine.accounts.get(a)?.cash ?? 0;

  async function until(f: () => boolean | Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 500; i++) {
      if (await f()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  /** Fund A and B and set the mark through the bus, as the chain listener / mark feeder would. */
  async function fund(): Promise<void> {
    await bus.append(MATCHER_COMMANDS, { type: "mark", market: 1, price: String(px(60_000)) });
    await bus.append(MATCHER_COMMANDS, { type: "balance", account: "a", delta: String(1e6 * USD), ref: "dep-a" });
    await bus.append(MATCHER_COMMANDS, { type: "balance", account: "b", delta: String(1e6 * USD), ref: "dep-b" });
  }

  /** n crossing pairs: each makes one trade between signed orders; resolves with the acks. */
  async function trade(m: Awaited<ReturnType<typeof boot>>, n: number, from = 0): Promise<Promise<Ack>[]> {
    const acks: Promise<Ack>[] = [];
    for (let i = from; i < from + n; i++) {
      const mk = `0xm${i}`;
      const tk = `0xt${i}`;
      await m.state.putOrder(mk, signed(mk));
      await m.state.putOrder(tk, signed(tk));
      const base = { type: "place", ts: 1_000 + i, market: 1, qty: lots(1), orderType: "LIMIT" } as const;
      const price = px(60_000);
      acks.push(m.venue.submit({ ...base, account: "a", side: "SELL", tif: "GTC", price, hash: mk }));
      acks.push(m.venue.submit({ ...base, account: "b", side: "BUY", tif: "GTC", price, hash: tk }));
    }
    return acks;
  }

  for (const point of ["before the FILLS append", "after the FILLS append, before its position is saved"]) {
    it(`a trade journaled but the process killed ${point}: appended exactly once after restart`, async () => {
      await fund();
      const m1 = await boot((p) => {
        if (point.startsWith("before")) p.killBefore = (w, s) => w === "bus.appendMany" && s === FILLS;
        else p.killAfter = (w, s) => w === "bus.appendMany" && s === FILLS;
      });
      await until(() => cash(m1.venue, "b") === 1e6 * USD, "funding");
      const acks = await trade(m1, 3);
      for (const a of await Promise.all(acks)) expect(a.ok, JSON.stringify(a)).to.equal(true);
      await Promise.race([m1.p.died, until(() => false, "the kill")]);
      const before = await fills();
      if (point.startsWith("before")) expect(before).to.deep.equal([]);
      else expect(before).to.deep.equal([1, 2, 3].slice(0, Math.max(1, before.length)));

      const m2 = await boot();
      expect(await fills()).to.deep.equal([1, 2, 3], `FILLS after restart (before: ${before.join(",")})`);
      for (const a of await Promise.all(await trade(m2, 2, 3))) expect(a.ok).to.equal(true);
      await m2.bridge.flush();
      await until(async () => (await fills()).length === 5, "new fills");
      expect(await fills()).to.deep.equal([1, 2, 3, 4, 5]);
      // funded once (not twice), plus the proceeds of 5 sells of 1 lot at 60000, less maker fees
      expect(cash(m2.venue, "a")).to.be.closeTo(1e6 * USD + 300 * USD, 1 * USD);
    });
  }

  it("trades journaled and covered by a snapshot, the process killed before the FILLS append: appended once", async () => {
    await fund();
    const m1 = await boot((p) => (p.killBefore = (w, s) => w === "bus.appendMany" && s === FILLS), 1);
    await until(() => cash(m1.venue, "b") === 1e6 * USD, "funding");
    for (const a of await Promise.all(await trade(m1, 3))) expect(a.ok).to.equal(true);
    await Promise.race([m1.p.died, until(() => false, "the kill")]);
    const snapAt = async () => {
      const snap = await FileJournal.open(dir, "engine").then((j) => j.loadSnapshot());
      return snap ? (JSON.parse(snap) as { nextTradeId: number }).nextTradeId : 0;
    };
    await until(async () => (await snapAt()) === 4, "a snapshot after the last trade");
    expect(await fills()).to.deep.equal([]);

    const m2 = await boot(undefined, 1);
    expect(await fills()).to.deep.equal([1, 2, 3]);
    for (const a of await Promise.all(await trade(m2, 1, 3))) expect(a.ok).to.equal(true);
    await until(async () => (await fills()).length === 4, "the new fill");
    expect(await fills()).to.deep.equal([1, 2, 3, 4]);
  });

  it("trades covered by a snapshot and missing from FILLS, the whole journal not replayable under these rules: starts, appends none, says why", async () => {
    await fund();
    const m1 = await boot((p) => (p.killBefore = (w, s) => w === "bus.appendMany" && s === FILLS), 1);
    await until(() => cash(m1.venue, "b") === 1e6 * USD, "funding");
    for (const a of await Promise.all(await trade(m1, 2))) expect(a.ok).to.equal(true);
    await Promise.race([m1.p.died, until(() => false, "the kill")]);
    const snapAt = async () => {
      const snap = await FileJournal.open(dir, "engine").then((j) => j.loadSnapshot());
      return snap ? (JSON.parse(snap) as { nextTradeId: number }).nextTradeId : 0;
    };
    await until(async () => (await snapAt()) === 3, "a snapshot after the last trade");
    // as after an accepted rules change: re-deriving the trades could make up ones never published
    const errors: string[] = [];
    const log = {
      info() {},
      warn() {},
      error: (msg: string, f?: object) => errors.push(`${msg} ${JSON.stringify(f)}`),
    };
    const m2 = await boot(undefined, 1, {
      replayAll: () => Promise.reject(new WholeReplayRulesError(300)),
      log,
    });
    expect(await fills()).to.deep.equal([]);
    expect(errors[0]).to.match(/^cannot replay the whole journal .*before inSeq 300/);
    expect(errors[1]).to.match(/^trades missing between the FILLS tail and the journal/);
    // and it trades on
    for (const a of await Promise.all(await trade(m2, 1, 2))) expect(a.ok).to.equal(true);
    await until(async () => (await fills()).length === 1, "the new fill");
    expect(await fills()).to.deep.equal([3]);
  });

  it("a deposit applied by the engine but the process killed before its bus position is saved: credited once", async () => {
    await fund();
    const m1 = await boot((p) => {
      p.killBefore = (w, c) => w === "saveCursors" && (c as Cursors).commandsId !== "0";
    });
    await Promise.race([m1.p.died, until(() => false, "the kill")]);
    expect(cash(m1.venue, "a")).to.equal(1e6 * USD);

    const m2 = await boot();
    await bus.append(MATCHER_COMMANDS, { type: "balance", account: "a", delta: String(5 * USD), ref: "dep-a2" });
    await until(() => cash(m2.venue, "a") !== 1e6 * USD, "second deposit");
    expect(cash(m2.venue, "a")).to.equal(1e6 * USD + 5 * USD);
    expect(cash(m2.venue, "b")).to.equal(1e6 * USD);
    // the engine applies the command before its ack returns from the journal: the counter follows the ack
    await until(() => m2.bridge.stats.commandsApplied > 0, "the deposit's ack");
    expect(m2.bridge.stats.commandsApplied).to.equal(1);

    // and a third start (clean positions now) applies nothing again
    m2.p.die();
    const m3 = await boot();
    await new Promise((r) => setTimeout(r, 100));
    expect(cash(m3.venue, "a")).to.equal(1e6 * USD + 5 * USD);
    expect(m3.bridge.stats.commandsApplied).to.equal(0);
  });

  it("the same deposit ref published twice (listener retry) across a crash still applies once", async () => {
    await fund();
    const m1 = await boot((p) => {
      p.killBefore = (w, c) => w === "saveCursors" && (c as Cursors).commandsId !== "0";
    });
    await Promise.race([m1.p.died, until(() => false, "the kill")]);
    const m2 = await boot();
    await bus.append(MATCHER_COMMANDS, { type: "balance", account: "a", delta: String(1e6 * USD), ref: "dep-a" });
    await bus.append(MATCHER_COMMANDS, { type: "balance", account: "b", delta: String(7), ref: "dep-b2" });
    await until(() => cash(m2.venue, "b") !== 1e6 * USD, "the marker deposit");
    expect(cash(m2.venue, "a")).to.equal(1e6 * USD);
    expect(m2.bridge.stats.commandsDuplicate).to.equal(1);
  });
});
