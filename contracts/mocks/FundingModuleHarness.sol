// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Funding, FundingStorage} from "../exchange/Funding.sol";
import {Packing} from "../libraries/Packing.sol";

/// @notice The Funding module alone, its internal API exposed (test/contracts/Funding.test.ts): position
///         changes, funding settlement and socialised loss on chosen indices, without the Exchange around it.
contract FundingModuleHarness is Funding {
    using Packing for uint256;

    event Applied(int256 newSize, int256 newCash);
    event Settled(int256 cash);
    event Charged(uint256 charged);

    constructor() {
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
    }

    function setIndices(uint256 market, int128 longIndex, int128 shortIndex) external {
        FundingStorage.MarketFunding storage f = _fundingMarket(market);
        (f.longIndex, f.shortIndex) = (longIndex, shortIndex);
    }

    function setCash(address account, int120 cash) external {
        _accounts[account] = _accounts[account].withCash(cash);
    }

    function applyPositionChange(address account, uint256 market, int256 sizeDelta, int256 cashDelta) external {
        (int256 newSize, int256 newCash) = _applyPositionChange(account, market, sizeDelta, cashDelta);
        emit Applied(newSize, newCash);
    }

    function settleFunding(address account) external {
        emit Settled(_settleFunding(account));
    }

    function socializeLoss(uint256 market, bool chargeLongs, uint256 amount) external {
        emit Charged(_socializeLoss(market, chargeLongs, amount));
    }

    function pending(address account, uint256 market) external view returns (int256) {
        return _pendingFunding(market, _positions[account][market]);
    }

    function position(address account, uint256 market) external view returns (int256 size, int256 snapshot) {
        uint256 w = _positions[account][market];
        return (w.size(), w.fundingSnapshot());
    }

    function state(
        uint256 market
    ) external view returns (int256 longIndex, int256 shortIndex, uint256 openInterest, uint256 lastMark) {
        FundingStorage.MarketFunding storage f = _fundingMarket(market);
        return (f.longIndex, f.shortIndex, f.openInterest, _lastFundingMark(market));
    }

    function cashOf(address account) external view returns (int256 cash, uint64 openMarkets) {
        uint256 w = _accounts[account];
        return (w.cash(), w.openMarkets());
    }
}
