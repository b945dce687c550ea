import { expect } from "chai";
import { parseTransaction, serializeTransaction, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { serializeEip1559 } from "../../keeper/tx/rlp";

describe("keeper/tx EIP-1559 serialization = viem", () => {
  it("unsigned and signed, over short and long payloads and edge integers", async () => {
    const acct = privateKeyToAccount(generatePrivateKey());
    const datas: Hex[] = [
      "0x",
      "0x00",
      "0x7f",
      "0x80",
      `0x${"ab".repeat(55)}`,
      `0x${"cd".repeat(56)}`,
      `0x${"ef".repeat(120_000)}`,
    ];
    for (const [i, data] of datas.entries()) {
      const tx = {
        type: "eip1559",
        chainId: [1, 31337, 127, 128][i % 4],
        nonce: [0, 1, 127, 128, 255, 256, 1_000_000][i],
        to: acct.address,
        data,
        value: [0n, 1n, 10n ** 18n][i % 3],
        gas: [21_000n, 16_777_216n][i % 2],
        maxFeePerGas: [1n, 2n * 10n ** 9n + 7n][i % 2],
        maxPriorityFeePerGas: [1n, 0n][i % 2],
      } as const;
      expect(serializeEip1559(tx)).to.equal(serializeTransaction(tx));
      const ref = await acct.signTransaction(tx);
      const p = parseTransaction(ref);
      expect(serializeEip1559(tx, { yParity: p.yParity!, r: p.r!, s: p.s! })).to.equal(ref);
    }
  });
});
