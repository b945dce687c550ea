// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Funding} from "./Funding.sol";
import {Oracle} from "./Oracle.sol";
import {Margin} from "../libraries/Margin.sol";
import {Packing} from "../libraries/Packing.sol";

/// @title Risk
/// @notice Account equity and margin requirements at oracle prices (sdk/margin.ts), pending funding
///         included (sdk/funding.ts): equity = cash - sum pendingFunding_i + sum floor(size_i * mark_i / SIZE_ONE).
abstract contract Risk is Funding, Oracle {
    using Packing for uint256;

    /// @notice Equity (pending funding included), initial and maintenance requirement of `account` at current
    ///         marks (reverts if a needed feed is unusable).
    function accountHealth(
        address account
    ) external view returns (int256 equity, int256 initialRequirement, int256 maintenanceRequirement) {
        uint256 w = _accounts[account];
        Margin.Totals memory t = _totalsAt(account, w.openMarkets(), w.cash());
        return (t.equityAfter, t.imAfter, t.mmAfter);
    }

    /// @dev Reverts InsufficientMargin unless `account` with cash `cash` meets its initial requirement.
    function _requireInitialMargin(address account, uint64 openMarkets, int256 cash) internal view {
        Margin.Totals memory t = _totalsAt(account, openMarkets, cash);
        if (t.equityAfter < t.imAfter) revert InsufficientMargin(account, t.equityAfter, uint256(t.imAfter));
    }

    /// @dev Equity (cash minus every position's pending funding plus position values) and requirements at
    ///      oracle marks; before = after (no change). Reverts if a needed feed is unusable.
    function _totalsAt(
        address account,
        uint64 openMarkets,
        int256 cash
    ) internal view returns (Margin.Totals memory t) {
        for (uint256 m = 0; openMarkets != 0; (m, openMarkets) = (m + 1, openMarkets >> 1)) {
            if (openMarkets & 1 == 0) continue;
            uint256 p = _positions[account][m];
            int256 size = p.size();
            cash -= _pendingFunding(m, p);
            MarketConfig storage cfg = _markets[m];
            int256 mark = int256(markPrice(uint32(m)));
            Margin.add(t, size, size, mark, int256(uint256(cfg.imfPpm)), int256(uint256(cfg.mmfPpm)));
        }
        t.equityAfter += cash;
        t.equityBefore += cash;
    }
}
