import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { SKIP_REASONS, SkipReason, skipReasonName } from "../../sdk/skipReasons";

const root = path.resolve(__dirname, "../..");

/** The enum's member names, in order, from the Solidity source. */
function solidityEnum(): string[] {
  const src = readFileSync(path.join(root, "contracts/interfaces/ExchangeTypes.sol"), "utf8");
  const body = /enum SkipReason\s*\{([^}]*)\}/.exec(src);
  if (!body) throw new Error("enum SkipReason not found in ExchangeTypes.sol");
  return body[1]
    .split("\n")
    .map((l) => l.replace(/\/\/.*$/, "").trim())
    .join("")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

describe("sdk/skipReasons", () => {
  it("lists the contract's SkipReason enum in order", () => {
    expect([...SKIP_REASONS]).to.deep.equal(solidityEnum());
    expect(SkipReason.PriceOutsideLimit).to.equal(15);
    expect(skipReasonName(5n)).to.equal("Expired");
    expect(skipReasonName(99)).to.equal("Reason99");
  });

  it("the subgraph's AssemblyScript copy is the same list", () => {
    const src = readFileSync(path.join(root, "subgraph/src/mappings/settlement.ts"), "utf8");
    const body = /const SKIP_REASONS: string\[\] = \[([^\]]*)\]/.exec(src);
    expect(body, "SKIP_REASONS not found in subgraph/src/mappings/settlement.ts").to.not.equal(null);
    const names = [...body![1].matchAll(/"([A-Za-z]+)"/g)].map((m) => m[1]);
    expect(names).to.deep.equal(solidityEnum());
  });
});
