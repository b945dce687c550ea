// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Accounts} from "./Accounts.sol";
import {Collateral} from "./Collateral.sol";
import {ExitGuard} from "./ExitGuard.sol";

/// @notice ERC-7201 namespaced storage of the insurance fund.
/// @custom:storage-location erc7201:perpx.storage.Insurance
library InsuranceStorage {
    struct Layout {
        /// @dev Quote units held by the Exchange for the insurance fund (not part of any account's cash).
        uint256 balance;
    }

    /// @dev keccak256(abi.encode(uint256(keccak256("perpx.storage.Insurance")) - 1)) & ~bytes32(uint256(0xff))
    ///      (checked by test/contracts/Liquidation.test.ts).
    bytes32 internal constant SLOT = 0x06199ad76c8a33e509cf8d60cc7f22396f1bb129a787ec9f6f3fe4cebf3db600;

    function layout() internal pure returns (Layout storage $) {
        assembly ("memory-safe") {
            $.slot := SLOT
        }
    }
}

/// @title Insurance
/// @notice The insurance fund: quote units the Exchange holds apart from every account's cash and the fee pool,
///         used first to cover bad debt (Liquidation). Fed by liquidation penalties (their insurance share and
///         the rounding remainder of the takeover), by `depositInsurance` from anyone, by the treasurer moving
///         accrued fees in (`moveFeesToInsurance`), and by the forced-exit fee (`_creditInsurance`).
///         No role can take money out of it: it leaves only to cover bad debt; after a freeze it is part of
///         the escape pool (Escape: the whole collateral balance backs the users' claims first).
///         See contracts/README.md, "Liquidation, insurance, bad debt".
abstract contract Insurance is Accounts, Collateral, ReentrancyGuardTransient, ExitGuard {
    using SafeERC20 for IERC20;

    /// @notice `from` paid `amount` (what actually arrived) into the insurance fund.
    event InsuranceDeposited(address indexed from, uint256 amount);
    /// @notice The treasurer moved `amount` of accrued fees into the insurance fund.
    event FeesMovedToInsurance(address indexed treasurer, uint256 amount);

    /// @notice Quote units in the insurance fund.
    function insuranceFund() external view returns (uint256) {
        return InsuranceStorage.layout().balance;
    }

    /// @notice Pays `amount` of collateral from the caller into the insurance fund (credits what arrived).
    function depositInsurance(uint256 amount) external nonReentrant {
        _requireNotFrozen(); // like every deposit
        if (amount == 0) revert ZeroAmount();
        uint256 before = collateral.balanceOf(address(this));
        collateral.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = collateral.balanceOf(address(this)) - before;
        if (received == 0) revert ZeroAmount();
        _creditInsurance(received);
        emit InsuranceDeposited(msg.sender, received);
    }

    /// @notice Moves `amount` of accrued trading fees into the insurance fund (TREASURER_ROLE).
    function moveFeesToInsurance(uint256 amount) external onlyRole(TREASURER_ROLE) {
        _requireNotFrozen(); // the balances stay as they were at the freeze
        uint256 available = _ledger.fees;
        if (amount == 0 || amount > available) revert InsufficientFees(amount, available);
        unchecked {
            _ledger.fees = uint128(available - amount);
        }
        _creditInsurance(amount);
        emit FeesMovedToInsurance(msg.sender, amount);
    }

    /// @dev Adds `amount` to the fund. The caller has already taken it out of an account's cash (or received
    ///      it), so the Exchange's liabilities are unchanged; the caller's event reports it.
    function _creditInsurance(uint256 amount) internal {
        InsuranceStorage.layout().balance += amount;
    }

    /// @dev Takes up to `amount` out of the fund to cover bad debt; returns what it took.
    function _debitInsurance(uint256 amount) internal returns (uint256 taken) {
        InsuranceStorage.Layout storage $ = InsuranceStorage.layout();
        uint256 b = $.balance;
        taken = amount < b ? amount : b;
        unchecked {
            $.balance = b - taken;
        }
    }
}
