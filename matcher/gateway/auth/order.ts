// The EIP-712 Order (sdk/eip712.ts, the one definition) for an order request: built from
// the request's parameters, hashed with the fast hasher, and its signature recovered off
// the engine's thread. The digest is the order's identity (the engine carries it as `hash`).
import { ORDER_FIELDS, DOMAIN_NAME, DOMAIN_VERSION, type Order } from "../../../sdk/eip712";
import { TypedDataHasher } from "../recover/eip712";
import { bytesToHex, hexToBytes, isHex } from "../recover/hex";
import type { RecoverPool } from "../recover/pool";
import type { AgentRegistry } from "./agents";
import { E } from "../errors";

export class OrderVerifier {
  readonly hasher: TypedDataHasher;
  /**
   * Observers of every verified order (hash, order, signature), awaited before the order can
   * reach the engine: matcher/bridge keeps the signatures the settler needs.
   */
  static readonly onVerified = new Set<(hash: string, order: Order, signature: string) => void | Promise<void>>();

  constructor(
    chainId: number,
    exchange: string,
    private readonly pool: RecoverPool,
    private readonly agents: AgentRegistry,
  ) {
    this.hasher = new TypedDataHasher("Order", ORDER_FIELDS, {
      name: DOMAIN_NAME,
      version: DOMAIN_VERSION,
      chainId,
      verifyingContract: exchange,
    });
  }

  /** Verify `signature` over `order` by the account or one of its agents; returns the order hash. */
  async verify(order: Order, signature: string, nowMs: number): Promise<string> {
    if (!isHex(signature, 65)) throw E.signature("orderSignature must be 65 bytes of 0x-prefixed hex.");
    if (order.expiry * 1000n <= BigInt(nowMs)) throw E.invalidParam("expiry", "the order has expired.");
    const digest = this.hasher.digest(order as unknown as Record<string, bigint | string | boolean | number>);
    const signer = await this.pool.recover(digest, hexToBytes(signature));
    const account = order.account.toLowerCase();
    if (signer === null || (signer !== account && !(await this.agents.isAgent(account, signer)))) {
      throw E.signature("Order signature is not valid for this account.");
    }
    const hash = bytesToHex(digest);
    for (const f of OrderVerifier.onVerified) await f(hash, order, signature);
    return hash;
  }
}
