import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { MATCHER_NODE_FLAGS } from "../../matcher/nodeFlags";

// package.json spells the matcher's node flags out (an npm script cannot import them): the matcher and
// its benchmarks must run with the flags the benchmark justifies, or it measures another process.
describe("matcher node flags", () => {
  const scripts = (
    JSON.parse(fs.readFileSync(path.join(__dirname, "../../package.json"), "utf8")) as {
      scripts: Record<string, string>;
    }
  ).scripts;

  for (const name of ["matcher", "bench:matcher", "bench:matcher-ab"])
    it(`npm run ${name} passes every flag of MATCHER_NODE_FLAGS, and no other semi-space size`, () => {
      const words = scripts[name].split(/\s+/);
      for (const flag of MATCHER_NODE_FLAGS) expect(words, name).to.include(flag);
      const semi = words.filter((w) => w.startsWith("--max-semi-space-size="));
      expect(semi, name).to.have.length.at.most(1);
    });
});
