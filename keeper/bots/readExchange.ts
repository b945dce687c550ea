// A view call on the Exchange (merged ABI: core and extension share the address), for the bots' reads.
import type { Address, PublicClient } from "viem";
import { exchangeAbi } from "../../sdk/abi";

export function readExchange<T>(
  client: PublicClient,
  exchange: Address,
  functionName: string,
  args: unknown[] = [],
): Promise<T> {
  return client.readContract({
    address: exchange,
    abi: exchangeAbi,
    functionName: functionName as never,
    args: args as never,
  }) as Promise<T>;
}
