// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {MarketParams, SkipReason} from "./ExchangeTypes.sol";

/// @notice Every state change of the Exchange is visible through these events.
interface IExchangeEvents {
    /// @notice Collateral credited to `account`; `amount` is what actually arrived.
    event Deposit(address indexed account, address indexed from, uint256 amount);
    /// @notice Collateral paid out of `account`'s cash to `to`.
    event Withdraw(address indexed account, address indexed to, uint256 amount);
    /// @notice Accrued fees paid out by the treasurer.
    event FeesWithdrawn(address indexed to, uint256 amount);
    event MarketListed(uint32 indexed market, bytes32 symbol, MarketParams params);
    /// @notice `agent` may sign orders for `account` until `expiry` (0 = revoked).
    event AgentSet(address indexed account, address indexed agent, uint64 expiry);
    /// @notice The order's nonce is closed: no order of `account` with this nonce fills again.
    event OrderCancelled(address indexed account, bytes32 indexed orderHash, uint64 nonce);
    /// @notice Every order of `account` with a nonce below `minNonce` is cancelled (O(1) mass cancel).
    event MinNonceRaised(address indexed account, uint64 minNonce);
    /// @notice One settled trade. Cash moved: buyer pays ceil(size*price/1e8) + fee, seller gets
    ///         floor(size*price/1e8) - fee; the rounding remainder goes to the fee pool.
    event FillSettled(
        uint64 indexed batch,
        address indexed maker,
        address indexed taker,
        bytes32 makerOrderHash,
        bytes32 takerOrderHash,
        uint32 market,
        bool takerIsBuy,
        uint64 size,
        uint64 price,
        int64 makerFee,
        int64 takerFee
    );
    /// @notice A fill the contract refused before applying it; the rest of the batch settled.
    /// @param orderHash the offending order's hash, or zero when the fill itself is at fault.
    event FillSkipped(uint64 indexed batch, uint256 fillIndex, SkipReason reason, bytes32 orderHash);
    /// @notice Position and cash of `account` after a batch that touched it in `market`.
    event PositionChanged(address indexed account, uint32 indexed market, int256 oldSize, int256 newSize, int256 cash);
    /// @notice Batch `batch` settled (`settled` fills applied, `skipped` skipped), submitted by `submitter`.
    event BatchSettled(uint64 indexed batch, uint256 settled, uint256 skipped, uint256 fees, address submitter);
}
