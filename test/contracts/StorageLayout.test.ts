// The Exchange delegatecalls ExchangeExtension for its cold paths, so both must read every storage variable
// at the same slot. This compares the compiler's storage layouts of the two contracts.
import hre from "hardhat";
import { expect } from "chai";

interface Slot {
  label: string;
  slot: string;
  offset: number;
  type: string;
  contract: string;
}

async function layout(name: string): Promise<Slot[]> {
  const fq = `contracts/${name}.sol:${name}`;
  const info = await hre.artifacts.getBuildInfo(fq);
  if (!info) throw new Error(`no build info for ${fq}`);
  const out = info.output.contracts[`contracts/${name}.sol`][name] as unknown as {
    storageLayout?: { storage: Slot[] };
  };
  if (!out.storageLayout) throw new Error("storageLayout missing from compiler output (hardhat.config.ts)");
  return out.storageLayout.storage;
}

describe("Storage layout: Exchange and ExchangeExtension", () => {
  it("every variable of the extension sits at the same slot, offset and type in the Exchange", async () => {
    const exchange = await layout("Exchange");
    const extension = await layout("ExchangeExtension");
    expect(extension.length).to.be.greaterThan(0);
    // solc names the laid-out contract in `contract`, not the declaring base, so variables are keyed by
    // label (unique across the bases; checked).
    const key = (s: Slot) => s.label;
    expect(new Set(exchange.map(key)).size, "duplicate labels").to.equal(exchange.length);
    const inExchange = new Map(exchange.map((s) => [key(s), s]));
    for (const s of extension) {
      const e = inExchange.get(key(s));
      expect(e, `${key(s)} missing from the Exchange`).to.not.equal(undefined);
      // Type ids embed AST node ids, which differ between compilation jobs: compare without them.
      const norm = (t: string) => t.replace(/\)\d+/g, ")");
      expect([e!.slot, e!.offset, norm(e!.type)], key(s)).to.deep.equal([s.slot, s.offset, norm(s.type)]);
    }
    // And the Exchange declares nothing the extension could collide with.
    const extSlots = new Set(extension.map((s) => `${s.slot}:${s.offset}`));
    for (const s of exchange) {
      if (!extension.some((x) => key(x) === key(s))) {
        expect(extSlots.has(`${s.slot}:${s.offset}`), `${key(s)} shares a slot with an extension variable`).to.equal(
          false,
        );
      }
    }
  });

  it("both contracts fit EIP-170 (24,576 bytes of runtime code)", async function () {
    // Under solidity-coverage the code is instrumented (and the limit lifted): not the code that deploys.
    if (process.env.SOLIDITY_COVERAGE === "true") this.skip();
    for (const name of ["Exchange", "ExchangeExtension"]) {
      const a = await hre.artifacts.readArtifact(name);
      const bytes = (a.deployedBytecode.length - 2) / 2;
      expect(bytes, `${name} runtime size`).to.be.at.most(24_576);
    }
  });
});
