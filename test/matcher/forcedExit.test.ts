// The engine's `restrict` command (an open forced exit on chain): every order of the account is cancelled,
// only reduce-only orders are accepted until it is released; the flag survives a snapshot and the command
// round-trips the journal codec (JSON form) and the bridge.
import { expect } from "chai";
import { encodeCommand } from "../../matcher/journal/codec";
import { decodeCommand } from "../../matcher/journal/decode";
import { restoreSnapshot, takeSnapshot } from "../../matcher/journal/snapshot";
import { toCommand } from "../../matcher/bridge/bridge";
import type { Command, RestrictCmd } from "../../matcher/engine/types";
import { H, btc, lots } from "./helpers";

describe("matcher: restrict (forced exit reduce-only)", () => {
  it("cancels the account's orders, rejects opening orders, accepts reduce-only ones, released by reduceOnly false", () => {
    const h = new H();
    // A long 2 lots
    h.limit("B", "SELL", 60_000, 2);
    h.limit("A", "BUY", 60_000, 2);
    expect(h.e.accountView("A")!.positions.get(1)).to.equal(lots(2));
    // resting orders of A, one plain, one conditional
    expect(h.limit("A", "BUY", 59_000, 1).ok).to.equal(true);
    expect(
      h.place({ account: "A", side: "SELL", orderType: "STOP_MARKET", stopPrice: 55_000_000_000, qty: lots(1) }).ok,
    ).to.equal(true);
    expect(h.e.openOrders("A").length).to.equal(2);

    const ack = h.run({ type: "restrict", ts: h.ts, account: "A", reduceOnly: true });
    expect(ack).to.include({ ok: true, type: "restrict" });
    expect(h.e.openOrders("A")).to.deep.equal([]);
    expect(h.lastOfKind("order").map((o) => [o.account, o.status, o.reason])).to.deep.equal([
      ["A", "CANCELED", "CHAIN_CANCEL"],
      ["A", "CANCELED", "CHAIN_CANCEL"],
    ]);
    // opening orders are rejected (either side: a sell without reduceOnly could flip the position)
    expect(h.limit("A", "BUY", 59_000, 1).reason).to.equal("REDUCE_ONLY_REJECTED");
    expect(h.limit("A", "SELL", 61_000, 1).reason).to.equal("REDUCE_ONLY_REJECTED");
    // reduce-only is accepted and reduces
    expect(h.limit("A", "SELL", 61_000, 1, { reduceOnly: true }).ok).to.equal(true);
    expect(h.limit("C", "BUY", 61_000, 1).ok).to.equal(true);
    expect(h.e.accountView("A")!.positions.get(1)).to.equal(lots(1));
    // other accounts are not touched
    expect(h.limit("B", "SELL", 62_000, 1).ok).to.equal(true);

    // survives a snapshot
    const e2 = restoreSnapshot({ markets: [btc()] }, JSON.parse(JSON.stringify(takeSnapshot(h.e))));
    expect(e2.accounts.get("A")!.reduceOnly).to.equal(true);
    expect(e2.accounts.get("B")!.reduceOnly).to.equal(false);

    // released
    expect(h.run({ type: "restrict", ts: h.ts, account: "A", reduceOnly: false }).ok).to.equal(true);
    expect(h.limit("A", "BUY", 59_000, 1).ok).to.equal(true);
    expect(h.e.openOrders("A").length).to.equal(1); // release cancels nothing
    // a snapshot of an unrestricted engine has no flag (old snapshots read the same)
    expect(takeSnapshot(h.e).accounts.every((a) => !("reduceOnly" in a))).to.equal(true);
  });

  it("restricting an unknown account creates it restricted; bad commands are rejected", () => {
    const h = new H();
    expect(h.run({ type: "restrict", ts: h.ts, account: "Z", reduceOnly: true }).ok).to.equal(true);
    h.run({ type: "balance", ts: h.ts, account: "Z", delta: 1e6 * 1_000_000 });
    expect(h.limit("Z", "BUY", 60_000, 1).reason).to.equal("REDUCE_ONLY_REJECTED");
    expect(h.run({ type: "restrict", ts: h.ts, account: "Z" } as unknown as Command).reason).to.equal(
      "INVALID_COMMAND",
    );
  });

  it("round-trips the journal codec and comes from the bus through the bridge", () => {
    const c: RestrictCmd = { type: "restrict", ts: 123, account: "0xabc", reduceOnly: true };
    const line = encodeCommand(c);
    expect(line.startsWith("J")).to.equal(true);
    expect(decodeCommand(line)).to.deep.equal(c);
    const off = { ...c, reduceOnly: false };
    expect(decodeCommand(encodeCommand(off))).to.deep.equal(off);
    expect(toCommand({ type: "restrict", account: "0xABC", reduceOnly: true, ref: "x" }, 5)).to.deep.equal({
      type: "restrict",
      ts: 5,
      account: "0xabc",
      reduceOnly: true,
    });
    expect(toCommand({ type: "restrict", account: "0xabc" }, 5)).to.equal("bad restrict");
  });
});
