// The deployment's admin is a TimelockController (scripts/lib/deployExchange.ts): minDelay above the grace
// period plus the exit window, the deployer keeps no admin role, and admin actions (parameters, operator key
// rotation) go through schedule -> wait -> execute.
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { type Hex, encodeFunctionData, zeroHash } from "viem";
import { deployExchange } from "../../scripts/lib/deployExchange";
import { addr, expectRevert } from "./helpers";

async function timelockedFixture() {
  const publicClient = await hre.viem.getPublicClient();
  const wallets = await hre.viem.getWalletClients();
  const [deployer, council, newOperator] = [wallets[0], wallets[13], wallets[14]];
  const d = await deployExchange({ publicClient, walletClient: deployer, admin: addr(council) });
  const exchange = await hre.viem.getContractAt("Exchange", d.exchange);
  const ext = await hre.viem.getContractAt("ExchangeExtension", d.exchange);
  const timelock = await hre.viem.getContractAt("ExchangeTimelock", d.timelock!);
  return { publicClient, deployer, council, newOperator, d, exchange, ext, timelock };
}

describe("Timelock: the admin of a deployed Exchange", () => {
  it("is the timelock, with minDelay > grace period + exit window; the deployer renounced every admin role", async () => {
    const { deployer, council, d, exchange, ext, timelock } = await loadFixture(timelockedFixture);
    expect(d.admin).to.equal(d.timelock);
    const adminRole = await exchange.read.DEFAULT_ADMIN_ROLE();
    const marketRole = await exchange.read.MARKET_ADMIN_ROLE();
    expect(await exchange.read.hasRole([adminRole, d.timelock!])).to.equal(true);
    expect(await exchange.read.hasRole([marketRole, d.timelock!])).to.equal(true);
    expect(await exchange.read.hasRole([adminRole, addr(deployer)])).to.equal(false);
    expect(await exchange.read.hasRole([marketRole, addr(deployer)])).to.equal(false);
    expect(await exchange.read.hasRole([adminRole, addr(council)])).to.equal(false);
    const p = await ext.read.exitParams();
    const minDelay = await timelock.read.getMinDelay();
    expect(minDelay).to.equal(BigInt(p.forcedExitGracePeriod + p.exitWindow + 86_400));
    expect(BigInt(d.timelockMinDelay!)).to.equal(minDelay);
    // The council proposes and executes; the timelock administers itself (no one else holds its admin role).
    expect(await timelock.read.hasRole([await timelock.read.PROPOSER_ROLE(), addr(council)])).to.equal(true);
    expect(await timelock.read.hasRole([await timelock.read.EXECUTOR_ROLE(), addr(council)])).to.equal(true);
    expect(await timelock.read.hasRole([await timelock.read.DEFAULT_ADMIN_ROLE(), addr(deployer)])).to.equal(false);
    await expectRevert(
      ext.write.setExitParams([p], { account: deployer.account }),
      "AccessControlUnauthorizedAccount",
      [addr(deployer), adminRole],
    );
  });

  it("admin actions wait minDelay: parameters and operator key rotation through schedule/execute", async () => {
    const { council, newOperator, exchange, ext, timelock } = await loadFixture(timelockedFixture);
    const minDelay = await timelock.read.getMinDelay();
    const p = await ext.read.exitParams();
    const q = { ...p, forcedExitFee: 25_000_000n };
    const calls: Hex[] = [
      encodeFunctionData({ abi: ext.abi, functionName: "setExitParams", args: [q] }),
      encodeFunctionData({
        abi: exchange.abi,
        functionName: "grantRole",
        args: [await exchange.read.OPERATOR_ROLE(), addr(newOperator)],
      }),
    ];
    for (const data of calls) {
      await timelock.write.schedule([exchange.address, 0n, data, zeroHash, zeroHash, minDelay], {
        account: council.account,
      });
      await expectRevert(
        timelock.write.execute([exchange.address, 0n, data, zeroHash, zeroHash], { account: council.account }),
        "TimelockUnexpectedOperationState",
      );
    }
    await time.increase(minDelay);
    for (const data of calls) {
      await timelock.write.execute([exchange.address, 0n, data, zeroHash, zeroHash], { account: council.account });
    }
    expect((await ext.read.exitParams()).forcedExitFee).to.equal(25_000_000n);
    expect(await exchange.read.hasRole([await exchange.read.OPERATOR_ROLE(), addr(newOperator)])).to.equal(true);
  });

  it("refuses grace period + exit window at or above the timelock's delay", async () => {
    const { council, exchange, ext, timelock } = await loadFixture(timelockedFixture);
    const minDelay = await timelock.read.getMinDelay(); // 10 days
    const p = await ext.read.exitParams();
    const q = { ...p, forcedExitGracePeriod: 7 * 86_400, exitWindow: Number(minDelay) - 7 * 86_400 };
    const data = encodeFunctionData({ abi: ext.abi, functionName: "setExitParams", args: [q] });
    await timelock.write.schedule([exchange.address, 0n, data, zeroHash, zeroHash, minDelay], {
      account: council.account,
    });
    await time.increase(minDelay);
    await expectRevert(
      timelock.write.execute([exchange.address, 0n, data, zeroHash, zeroHash], { account: council.account }),
      "AdminDelayTooShort",
      [minDelay, minDelay],
    );
  });

  it("deployExchange refuses a minDelay not above grace period + exit window", async () => {
    const publicClient = await hre.viem.getPublicClient();
    const [deployer] = await hre.viem.getWalletClients();
    let err: unknown;
    await deployExchange({ publicClient, walletClient: deployer, timelock: { minDelay: 9n * 86_400n } }).catch(
      (e) => (err = e),
    );
    expect(String(err)).to.match(/must exceed grace period \+ exit window/);
  });
});
