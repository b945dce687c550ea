// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Settlement} from "./exchange/Settlement.sol";
import {Vault} from "./exchange/Vault.sol";
import {Collateral} from "./exchange/Collateral.sol";
import {Cancels} from "./exchange/Cancels.sol";
import {MarketListing} from "./exchange/MarketListing.sol";
import {AgentKeys} from "./exchange/AgentKeys.sol";

/// @title Exchange
/// @notice Perpetual-futures exchange: orders matched off-chain, settled here in operator-signed batches.
///         Holds all collateral and positions. Composed of one-concern modules in contracts/exchange/:
///         ExchangeRoles, Accounts, Markets (+ MarketListing), Oracle, Risk, Vault, Agents (+ AgentKeys),
///         OrderSignatures, Nonces (+ Cancels), Settlement.
///         The cold paths (liquidation, withdrawals, forced exit, freeze and escape, pause, parameters,
///         funding updates) live in ExchangeExtension, which this contract delegatecalls for every selector
///         it does not know itself: one address, one storage, two code blobs (EIP-170 caps each at 24 KB).
///         See contracts/README.md.
contract Exchange is Settlement, Vault, Cancels, MarketListing, AgentKeys {
    /// @notice The ExchangeExtension this Exchange delegatecalls (immutable: there is no upgrade path).
    address public immutable extension;

    error ExtensionHasNoCode(address extension);
    error ExtensionCollateralMismatch(address extensionCollateral, address collateral);

    constructor(IERC20Metadata collateral_, address admin, address extension_) Collateral(collateral_) {
        if (admin == address(0)) revert ZeroAddress();
        if (extension_.code.length == 0) revert ExtensionHasNoCode(extension_);
        address extCollateral = address(Collateral(extension_).collateral());
        if (extCollateral != address(collateral_))
            revert ExtensionCollateralMismatch(extCollateral, address(collateral_));
        extension = extension_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _initExitParams();
    }

    /// @dev Nothing settles while frozen (ExchangeFrozen) or during a guardian pause (ExchangePaused).
    function _beforeSettle() internal view override {
        _requireNotFrozenOrPaused();
    }

    /// @dev Every other selector runs the extension's code on this contract's storage. Not payable: the
    ///      Exchange never holds ether.
    fallback() external {
        address ext = extension;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), ext, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) {
                revert(0, returndatasize())
            }
            return(0, returndatasize())
        }
    }
}
