// Request authentication in the Aster v3 style: every request that acts for an account
// carries `user` (the account), `signer` (the account itself or an agent it authorised), a
// microsecond `nonce` within ±window of server time, and `signature`: an EIP-712 signature
// by `signer` over Message{string msg} where msg is the exact request bytes received
// (query ‖ body without the trailing signature parameter). A nonce is accepted once.
import { E } from "../errors";
import { TypedDataHasher } from "../recover/eip712";
import type { RecoverPool } from "../recover/pool";
import { hexToBytes, isHex } from "../recover/hex";
import type { NonceStore } from "./nonce";
import type { AgentRegistry } from "./agents";
import type { Params } from "../rest/params";

export interface AuthContext {
  user: string;
  signer: string;
  nonce: bigint;
}

export interface AuthDomain {
  name: string;
  version: string;
  chainId: number;
  verifyingContract: string;
}

export const MESSAGE_TYPE = [{ name: "msg", type: "string" }] as const;

export class Authenticator {
  readonly hasher: TypedDataHasher;

  constructor(
    domain: AuthDomain,
    private readonly pool: RecoverPool,
    private readonly nonces: NonceStore,
    private readonly agents: AgentRegistry,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.hasher = new TypedDataHasher("Message", MESSAGE_TYPE, domain);
  }

  async authenticate(
    p: Params,
    signedPayload: string | undefined,
    signature: string | undefined,
  ): Promise<AuthContext> {
    const user = p.address("user");
    const signer = p.address("signer");
    const nonceStr = p.str("nonce");
    if (!/^\d{1,19}$/.test(nonceStr)) throw E.invalidParam("nonce", "must be the current time in microseconds.");
    const nonce = BigInt(nonceStr);
    if (signature === undefined || signedPayload === undefined) throw E.mandatory("signature");
    if (!isHex(signature, 65)) throw E.signature("Signature must be 65 bytes of 0x-prefixed hex.");
    const now = this.now();
    const drift = Number(nonce / 1000n) - now;
    if (Math.abs(drift) > this.windowMs) {
      throw E.timestamp(`Nonce is outside of the window: ${drift} ms from server time (allowed ±${this.windowMs} ms).`);
    }
    // Binance-style timestamp/recvWindow, when sent, must hold too.
    const ts = p.optInt("timestamp");
    if (ts !== undefined) {
      const recv = p.optInt("recvWindow", 1, 60_000) ?? 5000;
      if (ts >= now + 1000 || now - ts > recv)
        throw E.timestamp("Timestamp for this request is outside of the recvWindow.");
    }
    if (signer !== user && !(await this.agents.isAgent(user, signer))) {
      throw E.unauthorized(`Signer ${signer} is not authorised to act for ${user}.`);
    }
    const digest = this.hasher.digest({ msg: signedPayload });
    const recovered = await this.pool.recover(digest, hexToBytes(signature));
    if (recovered !== signer) throw E.signature();
    if (!(await this.nonces.claim(signer, nonce, now))) throw E.timestamp("Nonce has already been used.");
    return { user, signer, nonce };
  }
}
