// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Nonces} from "./Nonces.sol";
import {Order} from "../interfaces/ExchangeTypes.sol";
import {Packing} from "../libraries/Packing.sol";

/// @title Cancels
/// @notice On-chain order cancels and the order-state view (Exchange only: kept out of the bases the
///         extension inherits, so its code is not duplicated there).
abstract contract Cancels is Nonces {
    using Packing for uint256;

    /// @notice Cancels one order (closes its nonce). Callable by the account or a live agent of it.
    function cancelOrder(Order calldata order) external {
        _requireAccountOrAgent(order.account);
        bytes32 orderHash = hashOrder(order);
        (uint256 wi, uint256 shift) = Packing.nonceSlot(order.nonce);
        uint256 word = _nonceWords[order.account][wi];
        if ((word >> shift) & Packing.PARTIAL != 0) delete _filled[orderHash];
        _nonceWords[order.account][wi] = (word & ~(Packing.PARTIAL << shift)) | (Packing.CLOSED << shift);
        uint256 w = _accounts[order.account];
        if (!w.hasNonceBits()) _accounts[order.account] = w | Packing.NONCE_BITS;
        emit OrderCancelled(order.account, orderHash, order.nonce);
    }

    /// @notice Cancels every order of `account` with a nonce below `minNonce`; it must increase.
    ///         Callable by the account or a live agent of it. O(1) whatever the number of open orders.
    function raiseMinNonce(address account, uint64 minNonce) external {
        if (msg.sender != account) _requireAccountOrAgent(account);
        uint256 w = _accounts[account];
        uint64 current = w.minNonce();
        if (minNonce <= current) revert MinNonceNotIncreasing(current, minNonce);
        _accounts[account] = w.withMinNonce(minNonce);
        emit MinNonceRaised(account, minNonce);
    }

    /// @notice State of an order: `closed` (cancelled, fully filled or below the minimum nonce) and the
    ///         filled size while it is open.
    function orderState(
        address account,
        uint64 nonce,
        bytes32 orderHash
    ) external view returns (bool closed, uint256 filled) {
        (uint256 wi, uint256 shift) = Packing.nonceSlot(nonce);
        uint256 bits = (_nonceWords[account][wi] >> shift) & 3;
        if (bits & Packing.CLOSED != 0 || nonce < _accounts[account].minNonce()) return (true, 0);
        if (bits & Packing.PARTIAL != 0) filled = _filled[orderHash];
    }
}
