// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Nonces} from "./exchange/Nonces.sol";
import {Risk} from "./exchange/Risk.sol";
import {Collateral} from "./exchange/Collateral.sol";
import {Liquidation} from "./exchange/Liquidation.sol";
import {FundingUpdates} from "./exchange/FundingUpdates.sol";
import {ForcedExit} from "./exchange/ForcedExit.sol";
import {Escape} from "./exchange/Escape.sol";
import {Pause} from "./exchange/Pause.sol";
import {ExitParams} from "./exchange/ExitParams.sol";

/// @title ExchangeExtension
/// @notice The Exchange's cold paths, run only through the Exchange's fallback (delegatecall), so they act
///         on the Exchange's storage and funds. Called directly it touches only its own empty storage.
/// @dev Storage: it inherits the same stateful bases in the same order as Exchange, and every state added for
///      issue 3 lives in ERC-7201 namespaced structs; test/contracts/StorageLayout.test.ts checks that every
///      variable has the same slot in both. Never add a plain state variable to a module used here.
contract ExchangeExtension is
    Nonces,
    Risk,
    Collateral,
    ReentrancyGuardTransient,
    Liquidation, // LIQUIDATION helper: liquidate, insurance fund, bad debt
    FundingUpdates, // FUNDING helper: updateFunding, funding parameters and views
    ForcedExit, // EXIT helper: fast and slow withdrawals, forced requests and their serving
    Escape, // EXIT helper: freeze, final prices, escape register and claim
    Pause, // EXIT helper: guardian pause, operator key revocation
    ExitParams // EXIT helper: bounded exit parameters, exit views
{
    constructor(IERC20Metadata collateral_) Collateral(collateral_) {}
}
