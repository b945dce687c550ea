import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { MemoryBus, RedisBus, compareIds, type Bus } from "../../keeper/bus";
import { REDIS_URL, sleep, uniqueName, until } from "./helpers";

interface Target {
  name: string;
  open(): { bus: Bus; cleanup: () => Promise<void> };
}

const targets: Target[] = [
  {
    name: "redis",
    open() {
      const bus = new RedisBus({ url: REDIS_URL, prefix: `${uniqueName("bus")}:`, name: uniqueName("bus") });
      return {
        bus,
        cleanup: async () => {
          await bus.deleteAll();
          await bus.close();
        },
      };
    },
  },
  {
    name: "in-process",
    open() {
      const bus = new MemoryBus();
      return { bus, cleanup: () => bus.close() };
    },
  },
];

for (const t of targets) {
  describe(`keeper/bus on ${t.name}`, () => {
    let bus: Bus;
    let cleanup: () => Promise<void>;
    beforeEach(() => ({ bus, cleanup } = t.open()));
    afterEach(async () => cleanup());

    it("delivers published messages to subscribers until they unsubscribe", async () => {
      const got: unknown[] = [];
      const off = await bus.subscribe("ch", (m) => got.push(m));
      await bus.publish("ch", { a: 1, big: 10n ** 30n });
      await bus.publish("other", { a: 2 });
      await until(() => got.length === 1);
      expect(got[0]).to.deep.equal({ a: 1, big: "1000000000000000000000000000000" });
      await off();
      await bus.publish("ch", { a: 3 });
      await sleep(50);
      expect(got).to.have.length(1);
    });

    it("appends durably and reads in order from any position, with count", async () => {
      const ids = await bus.appendMany(
        "s",
        Array.from({ length: 10 }, (_, i) => ({ i })),
      );
      ids.push(await bus.append("s", { i: 10 }));
      for (let i = 1; i < ids.length; i++) expect(compareIds(ids[i - 1], ids[i])).to.equal(-1);
      expect(await bus.length("s")).to.equal(11);
      const all = await bus.read<{ i: number }>("s", "0", { count: 100 });
      expect(all.map((e) => e.data.i)).to.deep.equal([...Array(11).keys()]);
      const page = await bus.read<{ i: number }>("s", ids[4], { count: 3 });
      expect(page.map((e) => e.data.i)).to.deep.equal([5, 6, 7]);
      expect(await bus.read("s", ids[10])).to.deep.equal([]);
      expect(await bus.read("nothing", "0")).to.deep.equal([]);
    });

    it("a blocking read wakes on the next append, and times out empty", async () => {
      const start = Date.now();
      expect(await bus.read("b", "0", { blockMs: 150 })).to.deep.equal([]);
      expect(Date.now() - start).to.be.at.least(100);
      const p = bus.read<{ x: number }>("b", "0", { blockMs: 5000 });
      await sleep(50);
      await bus.append("b", { x: 7 });
      const got = await p;
      expect(got.map((e) => e.data)).to.deep.equal([{ x: 7 }]);
    });
  });
}

describe("keeper/bus in-process with a file", () => {
  it("replays the append-only file on reopen and continues the ids after it", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kbus-")), "bus.log");
    const a = new MemoryBus(file);
    const ids = await a.appendMany("s", [{ i: 0 }, { i: 1 }]);
    await a.append("t", { j: 0 });
    await a.close();
    fs.appendFileSync(file, '{"s":"s","n":9'); // torn last line after a crash
    const b = new MemoryBus(file);
    expect((await b.read<{ i: number }>("s", "0")).map((e) => e.data.i)).to.deep.equal([0, 1]);
    const next = await b.append("s", { i: 2 });
    expect(compareIds(next, ids[1])).to.equal(1);
    expect((await b.read<{ i: number }>("s", ids[1])).map((e) => e.data.i)).to.deep.equal([1 + 1]);
    await b.close();
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});

describe("keeper/bus on redis: connections killed (Redis restart seen by the client)", () => {
  it("reconnects: the stream reader loses and repeats nothing, subscriptions come back", async function () {
    const name = uniqueName("kill");
    const bus = new RedisBus({ url: REDIS_URL, prefix: `${name}:`, name });
    const admin = new Redis(REDIS_URL);
    const killOurs = async () => {
      const list = (await admin.client("LIST")) as string;
      let n = 0;
      for (const line of list.split("\n")) {
        const id = /\bid=(\d+)/.exec(line)?.[1];
        const cname = /\bname=(\S+)/.exec(line)?.[1];
        if (id && cname?.startsWith(name)) {
          await admin.client("KILL", "ID", id);
          n++;
        }
      }
      return n;
    };
    try {
      const pushed: unknown[] = [];
      await bus.subscribe("live", (m) => pushed.push(m));
      // a consumer that keeps its own position and retries on errors
      const seen: number[] = [];
      let pos = "0";
      let running = true;
      let errors = 0;
      const consumer = (async () => {
        while (running || seen.length < 300) {
          try {
            const es = await bus.read<{ i: number }>("log", pos, { count: 50, blockMs: 200 });
            for (const e of es) {
              seen.push(e.data.i);
              pos = e.id;
            }
            if (!running && es.length === 0) break;
          } catch {
            errors++;
            await sleep(20);
          }
        }
      })();
      for (let i = 0; i < 300; i++) {
        if (i === 100 || i === 200) expect(await killOurs()).to.be.at.least(2);
        for (;;) {
          try {
            await bus.append("log", { i });
            break;
          } catch {
            await sleep(20); // a producer retries too; the id it got back is the only proof of the append
          }
        }
      }
      running = false;
      await consumer;
      expect(seen).to.deep.equal([...Array(300).keys()]);
      // subscriptions are restored after the kill
      await until(
        async () => {
          await bus.publish("live", { after: "kill" });
          return pushed.some((m) => (m as { after?: string }).after === "kill");
        },
        10_000,
        100,
      );
      void errors;
    } finally {
      await bus.deleteAll();
      await bus.close();
      admin.disconnect();
    }
  });
});
