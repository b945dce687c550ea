// Role matrix: every restricted function of the Exchange and its extension, called from the holder of every
// other role and from a stranger, reverts with the right error; its own role holder gets past the check.
// Every state-changing function of the merged ABI must be classified below (role, operator signature,
// account, or permissionless by design), so a new restricted function cannot be left out of this test.
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { type Abi, type Hex, BaseError, ContractFunctionRevertedError } from "viem";
import { encodeSettlePackedPayload } from "../../sdk/settlePacked";
import {
  BTC,
  type Fx,
  addr,
  deployFixture,
  expectRevert,
  fill,
  makeBatch,
  makeOrder,
  price,
  size,
  withdrawalSignature,
} from "./helpers";

type Wallet = Fx["alice"];
type RoleName = "DEFAULT_ADMIN_ROLE" | "MARKET_ADMIN_ROLE" | "TREASURER_ROLE" | "GUARDIAN_ROLE" | "FUNDING_ROLE";

/** Role-gated functions (onlyRole) and the arguments to call them with. */
const ROLE_GATED: Record<string, { role: RoleName; args: (fx: Fx) => Promise<unknown[]> }> = {
  listMarket: {
    role: "MARKET_ADMIN_ROLE",
    args: async (fx) => ["0x" + "11".repeat(32), await fx.exchange.read.marketParams([BTC])],
  },
  withdrawFees: { role: "TREASURER_ROLE", args: async (fx) => [addr(fx.treasurer), 1n] },
  moveFeesToInsurance: { role: "TREASURER_ROLE", args: async () => [1n] },
  grantRole: {
    role: "DEFAULT_ADMIN_ROLE",
    args: async (fx) => [await fx.exchange.read.OPERATOR_ROLE(), addr(fx.stranger)],
  },
  revokeRole: {
    role: "DEFAULT_ADMIN_ROLE",
    args: async (fx) => [await fx.exchange.read.OPERATOR_ROLE(), addr(fx.operator)],
  },
  setExitParams: { role: "DEFAULT_ADMIN_ROLE", args: async (fx) => [await fx.ext.read.exitParams()] },
  setFundingParams: { role: "DEFAULT_ADMIN_ROLE", args: async (fx) => [...(await fx.ext.read.fundingParams())] },
  pause: { role: "GUARDIAN_ROLE", args: async () => [] },
  unpause: { role: "GUARDIAN_ROLE", args: async () => [] },
  revokeOperator: { role: "GUARDIAN_ROLE", args: async (fx) => [addr(fx.operator)] },
  updateFunding: { role: "FUNDING_ROLE", args: async () => [BTC, 0n] },
};
/** Authorised by an OPERATOR_ROLE key's EIP-712 signature (tested below). */
const OPERATOR_SIGNED = ["settle", "settlePacked", "withdraw"];
/** Act on the caller's own account or an account it is an agent of (tested below). */
const ACCOUNT_GATED = ["cancelOrder", "raiseMinNonce", "renounceRole"];
/** Permissionless by design: they act on msg.sender's own account, or anyone may (and should be able to). */
const PERMISSIONLESS = [
  "deposit",
  "depositFor",
  "setAgent",
  "requestWithdrawal",
  "cancelWithdrawal",
  "claimWithdrawal",
  "requestForcedExit",
  "serveForcedExit",
  "clearForcedExit",
  "freeze",
  "fixFinalPrice",
  "escapeRegister",
  "escapeClaim",
  "liquidate",
  "depositInsurance",
];

function revertName(e: unknown): string | undefined {
  if (e instanceof BaseError) {
    const r = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (r instanceof ContractFunctionRevertedError) return r.data?.errorName;
  }
  return /reverted with custom error '(\w+)\(/.exec(String(e))?.[1];
}

describe("Roles: every restricted function from every other role and a stranger", () => {
  let fx: Fx;
  let abi: Abi;
  let holders: Record<RoleName | "OPERATOR_ROLE", Wallet>;
  let callers: [string, Wallet][];

  async function setup() {
    const f = await deployFixture();
    const w = await hre.viem.getWalletClients();
    const [marketAdmin, funder] = [w[11], w[12]];
    const role = (n: string) => f.exchange.read[n as "OPERATOR_ROLE"]();
    // One holder per role: the fixture's admin keeps DEFAULT_ADMIN_ROLE only.
    for (const [r, who] of [
      ["MARKET_ADMIN_ROLE", marketAdmin],
      ["FUNDING_ROLE", funder],
    ] as const) {
      await f.exchange.write.grantRole([await role(r), addr(who)], { account: f.admin.account });
      await f.exchange.write.revokeRole([await role(r), addr(f.admin)], { account: f.admin.account });
    }
    return { f, marketAdmin, funder };
  }

  beforeEach(async () => {
    const s = await loadFixture(setup);
    fx = s.f;
    abi = [...fx.exchange.abi, ...fx.ext.abi] as Abi;
    holders = {
      DEFAULT_ADMIN_ROLE: fx.admin,
      MARKET_ADMIN_ROLE: s.marketAdmin,
      OPERATOR_ROLE: fx.operator,
      TREASURER_ROLE: fx.treasurer,
      GUARDIAN_ROLE: fx.guardian,
      FUNDING_ROLE: s.funder,
    };
    callers = [...Object.entries(holders), ["stranger", fx.stranger]];
    // Each wallet holds exactly the role it stands for.
    for (const [name, w] of Object.entries(holders)) {
      for (const r of Object.keys(holders)) {
        const id = await fx.exchange.read[r as "OPERATOR_ROLE"]();
        expect(await fx.exchange.read.hasRole([id, addr(w)]), `${name} holds ${r}`).to.equal(r === name);
      }
    }
  });

  it("every state-changing function is classified", () => {
    const names = new Set(
      abi
        .filter((x) => x.type === "function" && x.stateMutability !== "view" && x.stateMutability !== "pure")
        .map((x) => (x as { name: string }).name),
    );
    const known = new Set([...Object.keys(ROLE_GATED), ...OPERATOR_SIGNED, ...ACCOUNT_GATED, ...PERMISSIONLESS]);
    expect(
      [...names].filter((n) => !known.has(n)),
      "unclassified functions",
    ).to.deep.equal([]);
    expect(
      [...known].filter((n) => !names.has(n)),
      "classified but absent",
    ).to.deep.equal([]);
  });

  for (const [fn, { role, args }] of Object.entries(ROLE_GATED)) {
    it(`${fn}: ${role} only`, async () => {
      const a = await args(fx);
      const roleId = (await fx.exchange.read[role]()) as Hex;
      for (const [name, w] of callers) {
        if (name === role) continue;
        await expectRevert(
          w.writeContract({ address: fx.exchange.address, abi, functionName: fn, args: a } as never),
          "AccessControlUnauthorizedAccount",
          [addr(w), roleId],
        );
      }
      // The holder passes the role check (the call may still fail for its own reasons, e.g. unpause).
      const holder = holders[role];
      try {
        await fx.publicClient.simulateContract({
          address: fx.exchange.address,
          abi,
          functionName: fn,
          args: a,
          account: holder.account,
        } as never);
      } catch (e) {
        expect(revertName(e), `${fn} by its holder`).to.not.equal("AccessControlUnauthorizedAccount");
      }
    });
  }

  it("settle: only a batch signed by an OPERATOR_ROLE key, whoever submits it", async () => {
    const m = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.1") });
    const t = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.1") });
    const fills = [fill(0, 1, size("0.1"), price("60000"))];
    for (const [name, w] of callers) {
      if (name === "OPERATOR_ROLE") continue;
      const { batch, signature } = await makeBatch(fx, [m, t], fills, { signer: w });
      await expectRevert(fx.exchange.write.settle([batch, signature], { account: w.account }), "NotOperatorSigned", [
        addr(w),
      ]);
    }
    const { batch, signature } = await makeBatch(fx, [m, t], fills);
    await fx.exchange.write.settle([batch, signature], { account: fx.stranger.account });
  });

  it("settlePacked: only a batch signed by an OPERATOR_ROLE key, whoever submits it", async () => {
    const m = await makeOrder(fx, fx.bob, { isBuy: false, price: price("60000"), size: size("0.1") });
    const t = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.1") });
    const fills = [fill(0, 1, size("0.1"), price("60000"))];
    for (const [name, w] of callers) {
      if (name === "OPERATOR_ROLE") continue;
      const { batch, signature } = await makeBatch(fx, [m, t], fills, { signer: w });
      const payload = encodeSettlePackedPayload(batch, signature);
      await expectRevert(fx.exchange.write.settlePacked([payload], { account: w.account }), "NotOperatorSigned", [
        addr(w),
      ]);
    }
    const { batch, signature } = await makeBatch(fx, [m, t], fills);
    const payload = encodeSettlePackedPayload(batch, signature);
    await fx.exchange.write.settlePacked([payload], { account: fx.stranger.account });
  });

  it("fast withdraw: only with an OPERATOR_ROLE co-signature", async () => {
    for (const [name, w] of callers) {
      if (name === "OPERATOR_ROLE") continue;
      const s = await withdrawalSignature(fx, addr(fx.alice), 1n, addr(fx.alice), { signer: w });
      await expectRevert(
        fx.ext.write.withdraw([1n, addr(fx.alice), s.deadline, s.signature], { account: fx.alice.account }),
        "NotOperatorSigned",
        [addr(w)],
      );
    }
    const s = await withdrawalSignature(fx, addr(fx.alice), 1n, addr(fx.alice));
    await fx.ext.write.withdraw([1n, addr(fx.alice), s.deadline, s.signature], { account: fx.alice.account });
  });

  it("account-gated: cancels and mass cancels by the account or its agent only; renounce only for oneself", async () => {
    const o = await makeOrder(fx, fx.alice, { isBuy: true, price: price("60000"), size: size("0.1") });
    for (const [, w] of callers) {
      await expectRevert(fx.exchange.write.cancelOrder([o.order], { account: w.account }), "NotAccountOrAgent", [
        addr(w),
        addr(fx.alice),
      ]);
      await expectRevert(
        fx.exchange.write.raiseMinNonce([addr(fx.alice), 5n], { account: w.account }),
        "NotAccountOrAgent",
        [addr(w), addr(fx.alice)],
      );
      if (w === fx.operator) continue;
      const opRole = await fx.exchange.read.OPERATOR_ROLE();
      await expectRevert(
        fx.exchange.write.renounceRole([opRole, addr(fx.operator)], { account: w.account }),
        "AccessControlBadConfirmation",
      );
    }
  });
});
