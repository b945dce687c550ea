// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ExchangeRoles} from "./ExchangeRoles.sol";
import {Packing} from "../libraries/Packing.sol";

/// @title Accounts
/// @notice Account and ledger storage. "Cash + positions" model (sdk/margin.ts): each account holds a
///         signed cash balance in quote units and a signed size per market. Cash, the minimum nonce and
///         the bitmask of markets with an open position share one storage word (see Packing).
abstract contract Accounts is ExchangeRoles {
    using Packing for uint256;

    /// @notice Global ledger, one word: fees accrued to the Exchange and the next batch number.
    struct Ledger {
        uint128 fees;
        uint64 nextBatch;
    }

    /// @dev account => packed account word (cash, minNonce, openMarkets).
    mapping(address account => uint256 word) internal _accounts;
    /// @dev account => market => packed position word (size; funding snapshot reserved for issue 3).
    mapping(address account => mapping(uint256 market => uint256 word)) internal _positions;
    Ledger internal _ledger;

    /// @notice Cash (quote units, may be negative), minimum order nonce and open-market bitmask.
    function accountOf(address account) external view returns (int256 cash, uint64 minNonce, uint64 openMarkets) {
        uint256 w = _accounts[account];
        return (w.cash(), w.minNonce(), w.openMarkets());
    }

    /// @notice Signed position size of `account` in `market` (1e-8 base units; negative = short).
    function positionOf(address account, uint32 market) external view returns (int256) {
        return _positions[account][market].size();
    }

    /// @notice Trading fees (and rounding remainders) accrued to the Exchange, in quote units.
    function feesAccrued() external view returns (uint256) {
        return _ledger.fees;
    }

    /// @notice The number the next settled batch must carry.
    function nextBatchNumber() external view returns (uint64) {
        return _ledger.nextBatch;
    }
}
