// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Nonces} from "./Nonces.sol";
import {Risk} from "./Risk.sol";
import {FundingStorage} from "./Funding.sol";
import {Batch, Fill, Order, SkipReason} from "../interfaces/ExchangeTypes.sol";
import {Margin} from "../libraries/Margin.sol";
import {Units} from "../libraries/Units.sol";
import {Packing} from "../libraries/Packing.sol";

/// @title Settlement
/// @notice `settle(batch, operatorSignature)`: applies operator-signed batches of fills.
///
/// Batch level (the whole call reverts): wrong batch number (no replay, gap or reordering), past the
/// deadline, signature not by an OPERATOR_ROLE key, signatures/orders length mismatch, and an account that
/// fails its end-of-batch margin check (`AccountMarginCheckFailed(account, ...)` names it: the keeper
/// re-signs the same batch number without that account's fills).
///
/// Fill level (skipped with `FillSkipped(batch, fillIndex, reason, orderHash)`, nothing of it applied,
/// the rest of the batch settles): every problem with an order (signature, expiry, cancel, duplicate,
/// market, size) or a fill (indices, sides, accounts, market, tick, limits, lot, remaining size,
/// reduce-only, fees, oracle). All of it is checked before the fill moves anything.
///
/// Netting: each touched account and position is loaded once into memory, all fills are applied there,
/// then each is written once and each account is margin-checked once (sdk passesSettlementCheck).
///
/// Order state: a fully filled order closes by setting its CLOSED bit in the nonce bitmap, or, when its
/// nonce equals the account's minimum nonce, by advancing the minimum nonce by one (cheaper: the account
/// word is written anyway). A partially filled order keeps its filled size in `_filled` and its PARTIAL bit.
///
/// Gas: the hot paths (order hashing and decoding, fill checks, order commit, margin check) are assembly
/// fast paths that only accept the common, fully valid case; anything else (a skip, a reduce-only order, a
/// market not priced yet, a position outside the batch, a failing account) falls back to the Solidity
/// path, which applies the exact checks in order and names the reason. Memory layouts of the context
/// structs are fixed by their declarations below; the fast paths read them by offset.
abstract contract Settlement is Nonces, Risk {
    using Packing for uint256;
    using SafeCast for int256;
    using SafeCast for uint256;

    bytes32 public constant BATCH_TYPEHASH = keccak256(
        "Batch(uint64 number,uint64 deadline,Order[] orders,bytes fills)"
        "Order(address account,uint32 market,bool isBuy,bool reduceOnly,"
        "uint64 price,uint64 size,uint64 nonce,uint64 expiry)"
    );

    /// @dev Orders are indexed by uint16 in fills.
    uint256 internal constant MAX_BATCH_ORDERS = 1 << 16;
    uint256 private constant FILL_BYTES = 6 * 32;
    /// @dev settlePacked layout: number 8, deadline 8, order count 3, fill count 3, operator signature 65;
    ///      then 57 bytes per order, 36 per fill, and per order a 2-byte signature length and the signature.
    uint256 private constant PACKED_HEADER = 87;
    uint256 private constant PACKED_ORDER = 57;
    uint256 private constant PACKED_FILL = 36;

    /// @dev One order of the batch: its digest, load status and fill state, and the order fields the
    ///      fills need (copied from calldata once, so fills never decode orders again).
    struct OrderCtx {
        bytes32 hash; // EIP-712 digest: the order's identity
        SkipReason status; // None when the order may fill
        uint8 bitsBefore; // nonce bits (CLOSED|PARTIAL) at batch start
        uint64 filledBefore;
        uint64 filled;
        uint256 pos; // index into Ctx.positions
        address account;
        uint32 market;
        bool isBuy;
        bool reduceOnly;
        uint64 price;
        uint64 size;
        uint64 nonce;
        uint64 expiry;
    }

    struct AccountCtx {
        address account;
        uint256 word; // packed account word at batch start
        int256 cash; // running cash
        uint64 minNonce; // minimum nonce after the batch (advances over fully filled orders)
        uint64 openAfter;
        bool nonceBits; // Packing.NONCE_BITS: the nonce bitmap may hold a set bit (else it is all zero)
        bool touched;
        int256 cashBefore; // cash at batch start minus the funding its loaded positions owed (equity before)
    }

    struct PositionCtx {
        uint256 acct; // index into Ctx.accounts
        uint32 market;
        uint256 word; // packed position word at batch start
        int256 size; // running size
        bool touched;
        int256 owed; // pending funding at load, already taken from the account's running cash
    }

    struct MarketCtx {
        bool loaded;
        bool priceRead;
        bool priced;
        int256 mark;
        uint256 tick;
        uint256 lot;
        uint256 minSize;
        int256 imf;
        int256 mmf;
        int256 makerFee;
        int256 takerFee;
        int256 longIndex; // funding indices (FundingStorage), constant during the batch
        int256 shortIndex;
        int256 oiDelta; // net change of open interest (sum of long sizes) in this batch
    }

    struct Ctx {
        uint64 number;
        OrderCtx[] orders;
        AccountCtx[] accounts;
        uint256 nAccounts;
        PositionCtx[] positions;
        uint256 nPositions;
        MarketCtx[] markets;
        int256 fees;
        uint256 settled;
        uint256 skipped;
        uint256 oiMarkets; // bit m: market m's open interest changed in this batch
        bool packed; // settlePacked: orders and fills in the packed encoding (else ABI)
    }

    /// @notice Settles a batch signed by an operator key. Anyone may submit it.
    function settle(Batch calldata batch, bytes calldata operatorSignature) external {
        uint256 n = batch.orders.length;
        Ctx memory c = _begin(batch.number, batch.deadline, n, batch.signatures.length);
        bytes32 fillsHash = _abiFillsHash(batch.fills);
        _verifyOperator(
            c,
            batch.deadline,
            _hashOrders(_abiOrdersOffset(batch.orders), c),
            fillsHash,
            operatorSignature
        );
        for (uint256 i = 0; i < n; i = _inc(i)) _loadOrder(batch.signatures[i], c, i);
        _settleAbiFills(batch.fills, c);
        _finish(c);
    }

    /// @dev keccak256 of the fills' ABI words (the Batch type's `fills`), in scratch memory past the free
    ///      pointer (reused by the batch context afterwards).
    function _abiFillsHash(Fill[] calldata fills) private pure returns (bytes32 fillsHash) {
        assembly ("memory-safe") {
            let len := mul(fills.length, FILL_BYTES)
            let ptr := mload(0x40)
            calldatacopy(ptr, fills.offset, len)
            fillsHash := keccak256(ptr, len)
        }
    }

    function _abiOrdersOffset(Order[] calldata orders) private pure returns (uint256 src) {
        assembly ("memory-safe") {
            src := orders.offset
        }
    }

    function _settleAbiFills(Fill[] calldata fills, Ctx memory c) private {
        uint256 src;
        assembly ("memory-safe") {
            src := fills.offset
        }
        uint256 nFills = fills.length;
        for (uint256 j = 0; j < nFills; j = _inc(j)) _settleFill(src + j * FILL_BYTES, c, j);
    }

    /// @notice `settle` for the same batch in the packed encoding (no ABI padding; layout in
    ///         contracts/README.md "Gas", encoder `encodeSettlePacked` in sdk/settlePacked.ts): the same checks
    ///         in the same order, the same operator signature (over the same Batch struct hash), the same
    ///         events and state. Decoding is bounds-checked: a payload shorter or longer than what its counts
    ///         and signature lengths say, or an order flags byte other than 0..3, reverts (Packed* errors).
    function settlePacked(bytes calldata data) external {
        (uint64 batchNumber, uint64 deadline, uint256 n, uint256 nFills) = _packedHeader(data);
        Ctx memory c = _begin(batchNumber, deadline, n, n);
        c.packed = true;
        uint256 ordersSrc;
        uint256 fillsSrc;
        bytes32 fillsHash;
        assembly ("memory-safe") {
            ordersSrc := add(data.offset, PACKED_HEADER)
            fillsSrc := add(ordersSrc, mul(n, PACKED_ORDER))
        }
        // The Batch type hashes the fills as their ABI words: rebuilt in scratch memory past the free
        // pointer (reused by the batch context afterwards).
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let p := ptr
            let f := fillsSrc
            for {
                let end := add(fillsSrc, mul(nFills, PACKED_FILL))
            } lt(f, end) {
                f := add(f, PACKED_FILL)
            } {
                let w := calldataload(f)
                mstore(p, shr(240, w))
                mstore(add(p, 0x20), and(shr(224, w), 0xffff))
                w := calldataload(add(f, 4))
                mstore(add(p, 0x40), shr(192, w))
                mstore(add(p, 0x60), and(shr(128, w), 0xffffffffffffffff))
                mstore(add(p, 0x80), signextend(7, shr(64, w)))
                mstore(add(p, 0xa0), signextend(7, w))
                p := add(p, FILL_BYTES)
            }
            fillsHash := keccak256(ptr, sub(p, ptr))
        }
        _verifyOperator(c, deadline, _hashOrders(ordersSrc, c), fillsHash, data[22:87]);
        _loadPackedOrders(data, c, n, PACKED_HEADER + n * PACKED_ORDER + nFills * PACKED_FILL);
        for (uint256 j = 0; j < nFills; j = _inc(j)) _settleFill(fillsSrc + j * PACKED_FILL, c, j);
        _finish(c);
    }

    /// @dev The header of a packed batch, and the check that its fixed part (header, orders, fills and one
    ///      2-byte signature length per order) is there.
    function _packedHeader(
        bytes calldata data
    ) private pure returns (uint64 batchNumber, uint64 deadline, uint256 n, uint256 nFills) {
        uint256 len = data.length;
        if (len < PACKED_HEADER) revert PackedBatchTruncated(len, PACKED_HEADER);
        assembly ("memory-safe") {
            let w := calldataload(data.offset)
            batchNumber := shr(192, w)
            deadline := and(shr(128, w), 0xffffffffffffffff)
            n := and(shr(104, w), 0xffffff)
            nFills := and(shr(80, w), 0xffffff)
        }
        // n, nFills < 2^24: no overflow
        uint256 required = PACKED_HEADER + n * (PACKED_ORDER + 2) + nFills * PACKED_FILL;
        if (len < required) revert PackedBatchTruncated(len, required);
    }

    /// @dev Loads every order of a packed batch with its signature (a 2-byte length, then the bytes),
    ///      starting at `s`; the last signature must end the payload.
    function _loadPackedOrders(bytes calldata data, Ctx memory c, uint256 n, uint256 s) private {
        uint256 len = data.length;
        for (uint256 i = 0; i < n; i = _inc(i)) {
            uint256 sigLength;
            assembly ("memory-safe") {
                sigLength := shr(240, calldataload(add(data.offset, s)))
            }
            // s + 2 <= len or the end is past len anyway (a read past calldata is zero-padded)
            uint256 end = s + 2 + sigLength;
            if (end > len) revert PackedSignatureTruncated(i, sigLength, end, len);
            _loadOrder(data[s + 2:end], c, i);
            s = end;
        }
        if (s != len) revert PackedBatchTrailingBytes(len, s);
    }

    /// @dev The batch-level checks shared by settle and settlePacked, and a fresh context.
    function _begin(uint64 number, uint64 deadline, uint256 n, uint256 nSignatures) private returns (Ctx memory c) {
        _beforeSettle();
        uint64 next = _ledger.nextBatch;
        if (number != next) revert BatchNumberMismatch(next, number);
        if (block.timestamp > deadline) revert BatchExpired(deadline, block.timestamp);
        if (nSignatures != n) revert BatchLengthMismatch(n, nSignatures);
        if (n > MAX_BATCH_ORDERS) revert BatchTooLarge(n, MAX_BATCH_ORDERS);
        c.number = number;
        // Arrays of struct pointers without eagerly allocated elements: each element is created on first
        // use (_hashOrders, _loadOrderStateFast, _positionIndex) and only indices already created are read.
        c.orders = _orderArray(n);
        c.accounts = _accountArray(n);
        c.positions = _positionArray(n);
        c.markets = new MarketCtx[](_markets.length);
    }

    /// @dev Writes orders, positions, open interest and accounts (margin-checked), then the ledger.
    function _finish(Ctx memory c) private {
        _commitOrders(c);
        _commitPositions(c);
        _commitOpenInterest(c);
        _commitAccounts(c);
        Ledger memory ledger = _ledger;
        uint256 fees = uint256(c.fees); // >= 0: every fill adds makerFee + takerFee >= 0 plus rounding
        _ledger = Ledger({fees: (ledger.fees + fees).toUint128(), nextBatch: ledger.nextBatch + 1});
        emit BatchSettled(c.number, c.settled, c.skipped, fees, msg.sender);
    }

    /// @notice EIP-712 digest the operator signs for a batch (fills = raw ABI words of the Fill array).
    function hashBatch(
        uint64 number,
        uint64 deadline,
        bytes32 ordersHash,
        bytes32 fillsHash
    ) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(BATCH_TYPEHASH, number, deadline, ordersHash, fillsHash)));
    }

    /// @dev A memory array of `n` uninitialised struct pointers (free memory is bumped; no element is
    ///      allocated). Callers write an element before reading it.
    function _pointers(uint256 n) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := mload(0x40)
            mstore(ptr, n)
            mstore(0x40, add(add(ptr, 0x20), shl(5, n)))
        }
    }

    function _orderArray(uint256 n) private pure returns (OrderCtx[] memory a) {
        uint256 p = _pointers(n);
        assembly ("memory-safe") {
            a := p
        }
    }

    function _accountArray(uint256 n) private pure returns (AccountCtx[] memory a) {
        uint256 p = _pointers(n);
        assembly ("memory-safe") {
            a := p
        }
    }

    function _positionArray(uint256 n) private pure returns (PositionCtx[] memory a) {
        uint256 p = _pointers(n);
        assembly ("memory-safe") {
            a := p
        }
    }

    function _inc(uint256 i) private pure returns (uint256) {
        unchecked {
            return i + 1;
        }
    }

    /// @dev Seam for issue 3 (guardian pause, freeze). No-op for now.
    function _beforeSettle() internal virtual {}

    // ---------------------------------------------------------------- batch signature

    /// @dev Computes every order digest into `c` and returns keccak256(structHash_0 .. structHash_n-1),
    ///      the EIP-712 encoding of `Order[] orders`. `src`: the calldata offset of the first order, eight
    ///      ABI words each, or (c.packed) 57 bytes each: account 20, market 4, flags 1 (bit 0 isBuy, bit 1
    ///      reduceOnly), price 8, size 8, nonce 8, expiry 8.
    function _hashOrders(uint256 src, Ctx memory c) private view returns (bytes32 ordersHash) {
        OrderCtx[] memory ocs = c.orders;
        uint256 n = ocs.length;
        bytes32[] memory structHashes = new bytes32[](n);
        bytes32 separator = _domainSeparatorV4();
        bytes32 typehash = ORDER_TYPEHASH;
        bool packed = c.packed;
        bytes4 badFlags = PackedOrderFlagsInvalid.selector;
        // Each OrderCtx is 14 words; words 6..13 (account .. expiry) are the order's 8 ABI words in order, so
        // the struct hash is keccak256 over words 5..13 with word 5 (pos) briefly the typehash.
        assembly ("memory-safe") {
            for {
                let i := 0
            } lt(i, n) {
                i := add(i, 1)
            } {
                let oc := mload(0x40)
                mstore(0x40, add(oc, 0x1c0))
                switch packed
                case 0 {
                    calldatacopy(add(oc, 0xc0), src, 0x100)
                    // The encoding must be clean, as ABI decoding requires (dirty bits revert).
                    let dirty := shr(160, mload(add(oc, 0xc0)))
                    dirty := or(dirty, shr(32, mload(add(oc, 0xe0))))
                    dirty := or(dirty, shr(1, mload(add(oc, 0x100))))
                    dirty := or(dirty, shr(1, mload(add(oc, 0x120))))
                    dirty := or(dirty, shr(64, mload(add(oc, 0x140))))
                    dirty := or(dirty, shr(64, mload(add(oc, 0x160))))
                    dirty := or(dirty, shr(64, mload(add(oc, 0x180))))
                    dirty := or(dirty, shr(64, mload(add(oc, 0x1a0))))
                    if dirty {
                        revert(0, 0)
                    }
                    src := add(src, 0x100)
                }
                default {
                    let w := calldataload(src)
                    let flags := and(shr(56, w), 0xff)
                    if gt(flags, 3) {
                        mstore(0, badFlags)
                        mstore(4, i)
                        mstore(0x24, flags)
                        revert(0, 0x44)
                    }
                    mstore(add(oc, 0xc0), shr(96, w))
                    mstore(add(oc, 0xe0), and(shr(64, w), 0xffffffff))
                    mstore(add(oc, 0x100), and(flags, 1))
                    mstore(add(oc, 0x120), shr(1, flags))
                    w := calldataload(add(src, 25))
                    mstore(add(oc, 0x140), shr(192, w))
                    mstore(add(oc, 0x160), and(shr(128, w), 0xffffffffffffffff))
                    mstore(add(oc, 0x180), and(shr(64, w), 0xffffffffffffffff))
                    mstore(add(oc, 0x1a0), and(w, 0xffffffffffffffff))
                    src := add(src, PACKED_ORDER)
                }
                mstore(add(oc, 0xa0), typehash)
                let h := keccak256(add(oc, 0xa0), 0x120)
                mstore(add(oc, 0xa0), 0) // pos
                mstore(add(oc, 0x20), 0) // status
                mstore(add(oc, 0x40), 0) // bitsBefore
                mstore(add(oc, 0x60), 0) // filledBefore
                mstore(add(oc, 0x80), 0) // filled
                mstore(add(add(structHashes, 0x20), shl(5, i)), h)
                // MessageHashUtils.toTypedDataHash(separator, h), in the scratch space after oc
                let ptr := mload(0x40)
                mstore(ptr, hex"1901")
                mstore(add(ptr, 0x02), separator)
                mstore(add(ptr, 0x22), h)
                mstore(oc, keccak256(ptr, 0x42))
                mstore(add(add(ocs, 0x20), shl(5, i)), oc)
            }
            ordersHash := keccak256(add(structHashes, 0x20), shl(5, n))
        }
    }

    function _verifyOperator(
        Ctx memory c,
        uint64 deadline,
        bytes32 ordersHash,
        bytes32 fillsHash,
        bytes calldata signature
    ) private view {
        bytes32 digest = hashBatch(c.number, deadline, ordersHash, fillsHash);
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err != ECDSA.RecoverError.NoError || !hasRole(OPERATOR_ROLE, signer)) revert NotOperatorSigned(signer);
    }

    // ---------------------------------------------------------------- loading

    function _loadOrder(bytes calldata sig, Ctx memory c, uint256 i) private {
        OrderCtx memory oc = c.orders[i];
        if (_checkOrderFast(sig, c, oc)) oc.status = _loadOrderState(c, oc);
        else oc.status = _checkOrder(oc.expiry, sig, c, oc);
    }

    /// @dev The checks of _checkOrder up to the signature, in assembly, for the common case only: a non-zero
    ///      account, not expired, a market already loaded in this batch, a valid size, not a duplicate, and a
    ///      65-byte low-s ECDSA signature recovering to the account or to a live agent of it (as
    ///      OrderSignatures._isValidOrderSignature with OpenZeppelin's ECDSA.tryRecoverCalldata). Then it marks
    ///      the order seen (the DuplicateOrder stamp) and returns true. Anything else returns false having
    ///      changed nothing, and _checkOrder decides (it finds the exact reason, loads a market on first use,
    ///      tries ERC-1271). OrderCtx layout as in _settleFill; MarketCtx.lot/minSize at 0xa0/0xc0.
    function _checkOrderFast(bytes calldata sig, Ctx memory c, OrderCtx memory oc) private returns (bool ok) {
        uint256 agentSlot;
        assembly ("memory-safe") {
            agentSlot := _agentExpiry.slot
        }
        uint256 stamp = uint256(c.number) + 1;
        assembly ("memory-safe") {
            let account := mload(add(oc, 0xc0))
            let market := mload(add(oc, 0xe0))
            let markets := mload(add(c, 0xc0))
            // account != 0, not expired, market known and loaded
            if and(
                and(iszero(iszero(account)), iszero(gt(timestamp(), mload(add(oc, 0x1a0))))),
                lt(market, mload(markets))
            ) {
                let mk := mload(add(add(markets, 0x20), shl(5, market)))
                let size := mload(add(oc, 0x160))
                let h := mload(oc)
                if and(
                    and(mload(mk), iszero(eq(tload(h), stamp))),
                    and(
                        iszero(iszero(size)),
                        and(iszero(mod(size, mload(add(mk, 0xa0)))), iszero(lt(size, mload(add(mk, 0xc0)))))
                    )
                ) {
                    if eq(sig.length, 65) {
                        let sv := calldataload(add(sig.offset, 0x20))
                        // s in the lower half order (ECDSA malleability rule)
                        if iszero(gt(sv, 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0)) {
                            let ptr := mload(0x40)
                            mstore(ptr, h)
                            mstore(add(ptr, 0x20), byte(0, calldataload(add(sig.offset, 0x40))))
                            mstore(add(ptr, 0x40), calldataload(sig.offset))
                            mstore(add(ptr, 0x60), sv)
                            mstore(0, 0)
                            let signer := 0
                            if staticcall(gas(), 1, ptr, 0x80, 0, 0x20) {
                                signer := mload(0)
                            }
                            if signer {
                                ok := eq(signer, account)
                                if iszero(ok) {
                                    // _agentExpiry[account][signer] >= block.timestamp
                                    mstore(0, account)
                                    mstore(0x20, agentSlot)
                                    mstore(0x20, keccak256(0, 0x40))
                                    mstore(0, signer)
                                    let expiry := and(sload(keccak256(0, 0x40)), 0xffffffffffffffff)
                                    ok := iszero(lt(expiry, timestamp()))
                                }
                            }
                            if ok {
                                tstore(h, stamp)
                            }
                        }
                    }
                }
            }
        }
    }

    function _checkOrder(
        uint64 expiry,
        bytes calldata sig,
        Ctx memory c,
        OrderCtx memory oc
    ) private returns (SkipReason) {
        address account = oc.account;
        if (account == address(0)) return SkipReason.InvalidAccount;
        if (block.timestamp > expiry) return SkipReason.Expired;
        uint256 market = oc.market;
        if (market >= c.markets.length) return SkipReason.UnknownMarket;
        MarketCtx memory mk = c.markets[market];
        if (!mk.loaded) _loadMarket(mk, market);
        uint256 size = oc.size;
        if (size == 0 || size % mk.lot != 0 || size < mk.minSize) return SkipReason.InvalidOrderSize;
        bytes32 h = oc.hash;
        uint256 stamp = uint256(c.number) + 1;
        uint256 seen;
        assembly ("memory-safe") {
            seen := tload(h)
        }
        if (seen == stamp) return SkipReason.DuplicateOrder;
        assembly ("memory-safe") {
            tstore(h, stamp)
        }
        if (!_isValidOrderSignature(account, h, sig)) return SkipReason.BadSignature;
        return _loadOrderState(c, oc);
    }

    /// @dev Loads the order's account, nonce state, filled amount and position.
    function _loadOrderState(Ctx memory c, OrderCtx memory oc) private returns (SkipReason) {
        (bool done, SkipReason reason, uint256 acct) = _loadOrderStateFast(c, oc);
        if (done) return reason;
        return _loadOrderStateChecked(c, oc, acct);
    }

    /// @dev Loads the order's account into `c.accounts` on first use (transient storage maps (batch number,
    ///      account) to index + 1, so lookups are O(1)): an AccountCtx {account, word, cash, minNonce, openAfter,
    ///      nonceBits, touched, cashBefore} unpacked from the account word (Packing layout), appended at
    ///      c.nAccounts (one per order at most). Then, in assembly, the rest of _loadOrderState with
    ///      _positionIndex inlined for an account whose NONCE_BITS flag is clear (its bitmap is all zero, so the
    ///      order is neither closed nor partially filled: bitsBefore, filledBefore and filled stay zero as
    ///      _hashOrders set them). For a flagged account it returns done = false and the account's index, and
    ///      _loadOrderStateChecked finishes.
    function _loadOrderStateFast(
        Ctx memory c,
        OrderCtx memory oc
    ) private returns (bool done, SkipReason reason, uint256 acct) {
        uint256 batchNumber = c.number;
        bool cancelled;
        // Split into Yul functions so the non-IR (coverage) build stays within the stack.
        assembly ("memory-safe") {
            // A new AccountCtx for `account`, appended at c.nAccounts.
            function newAccount(ctx, account, slot_) -> a, idx {
                mstore(0, account)
                mstore(0x20, slot_)
                let w := sload(keccak256(0, 0x40))
                idx := mload(add(ctx, 0x60))
                mstore(add(ctx, 0x60), add(idx, 1))
                a := mload(0x40)
                mstore(0x40, add(a, 0x100))
                mstore(a, account)
                mstore(add(a, 0x20), w)
                mstore(add(a, 0x40), signextend(14, w)) // cash int120
                mstore(add(a, 0x60), and(shr(128, w), 0xffffffffffffffff)) // minNonce
                mstore(add(a, 0x80), shr(192, w)) // openMarkets
                mstore(add(a, 0xa0), and(shr(120, w), 1)) // NONCE_BITS
                mstore(add(a, 0xc0), 0)
                mstore(add(a, 0xe0), signextend(14, w)) // cashBefore
                mstore(add(add(mload(add(ctx, 0x40)), 0x20), shl(5, idx)), a)
            }
            // Funding._pendingFunding of position word w in `market` (indices of its MarketCtx)
            function owedOf(ctx, market, w) -> owed {
                let sz := signextend(7, w)
                if sz {
                    let mk := mload(add(add(mload(add(ctx, 0xc0)), 0x20), shl(5, market)))
                    let index := mload(add(mk, 0x160))
                    if slt(sz, 0) {
                        index := mload(add(mk, 0x180))
                    }
                    // |sz| < 2^63, |index - snapshot| < 2^129: the signed product fits; ceil(prod / 1e14)
                    let prod := mul(sz, sub(index, signextend(15, shr(64, w))))
                    owed := add(sdiv(prod, 100000000000000), sgt(smod(prod, 100000000000000), 0))
                }
            }
            // A new PositionCtx of account a (index acct_) in `market`, appended at c.nPositions; its pending
            // funding is settled into a's running cash and cashBefore at once (as _positionIndex).
            function newPosition(ctx, a, acct_, market, slot_) -> idx {
                mstore(0, mload(a))
                mstore(0x20, slot_)
                mstore(0x20, keccak256(0, 0x40))
                mstore(0, market)
                let w := sload(keccak256(0, 0x40))
                idx := mload(add(ctx, 0xa0))
                mstore(add(ctx, 0xa0), add(idx, 1))
                let p := mload(0x40)
                mstore(0x40, add(p, 0xc0))
                mstore(p, acct_)
                mstore(add(p, 0x20), market)
                mstore(add(p, 0x40), w)
                mstore(add(p, 0x60), signextend(7, w)) // size int64
                mstore(add(p, 0x80), 0)
                let owed := owedOf(ctx, market, w)
                if owed {
                    mstore(add(a, 0x40), sub(mload(add(a, 0x40)), owed))
                    mstore(add(a, 0xe0), sub(mload(add(a, 0xe0)), owed))
                }
                mstore(add(p, 0xa0), owed)
                mstore(add(add(mload(add(ctx, 0x80)), 0x20), shl(5, idx)), p)
            }
            // returns (done, cancelled, acct) as described above
            function load(ctx, o, number_, accountsSlot, positionsSlot) -> done_, cancelled_, acct_ {
                let account := mload(add(o, 0xc0))
                let key := or(account, shl(166, number_))
                let v := tload(key)
                let a := 0
                switch v
                case 0 {
                    let idx := 0
                    a, idx := newAccount(ctx, account, accountsSlot)
                    v := add(idx, 1)
                    tstore(key, v)
                    // bit 128: first seen in this batch, so none of its positions is loaded yet
                    v := or(v, shl(128, 1))
                }
                default {
                    a := mload(add(add(mload(add(ctx, 0x40)), 0x20), shl(5, sub(v, 1))))
                }
                acct_ := sub(and(v, 0xffffffffffffffffffffffffffffffff), 1)
                switch lt(mload(add(o, 0x180)), mload(add(a, 0x60)))
                case 1 {
                    done_ := 1
                    cancelled_ := 1
                }
                default {
                    if iszero(mload(add(a, 0xa0))) {
                        done_ := 1
                        let market := mload(add(o, 0xe0))
                        // _positionKey(account, market, number)
                        key := or(or(account, shl(160, market)), or(shl(166, number_), shl(255, 1)))
                        switch shr(128, v)
                        case 0 {
                            v := tload(key)
                        }
                        default {
                            v := 0
                        }
                        if iszero(v) {
                            v := add(newPosition(ctx, a, acct_, market, positionsSlot), 1)
                            tstore(key, v)
                        }
                        mstore(add(o, 0xa0), sub(v, 1)) // oc.pos
                    }
                }
            }
            done, cancelled, acct := load(c, oc, batchNumber, _accounts.slot, _positions.slot)
        }
        if (cancelled) reason = SkipReason.Cancelled;
    }

    /// @dev The rest of _loadOrderState for account `acct` (loaded): nonce bits, filled amount, position.
    function _loadOrderStateChecked(Ctx memory c, OrderCtx memory oc, uint256 acct) private returns (SkipReason) {
        address account = oc.account;
        uint64 nonce = oc.nonce;
        if (nonce < c.accounts[acct].minNonce) return SkipReason.Cancelled;
        uint256 bits;
        // An account whose NONCE_BITS flag is clear never had a nonce bit set: no need to read its bitmap.
        if (c.accounts[acct].nonceBits) {
            (uint256 wi, uint256 shift) = Packing.nonceSlot(nonce);
            bits = (_nonceWords[account][wi] >> shift) & 3;
        }
        if (bits & Packing.CLOSED != 0) return SkipReason.OrderClosed;
        if (bits & Packing.PARTIAL != 0) {
            uint256 filled = _filled[oc.hash];
            oc.filledBefore = uint64(filled); // < o.size, written by this contract
            oc.filled = uint64(filled);
        }
        oc.bitsBefore = uint8(bits);
        oc.pos = _positionIndex(c, acct, account, oc.market);
        return SkipReason.None;
    }

    function _loadMarket(MarketCtx memory mk, uint256 market) private view {
        MarketConfig storage m = _markets[market];
        mk.loaded = true;
        mk.tick = m.tickSize;
        mk.lot = m.lotSize;
        mk.minSize = m.minSize;
        mk.imf = int256(uint256(m.imfPpm));
        mk.mmf = int256(uint256(m.mmfPpm));
        mk.makerFee = m.makerFeePpm;
        mk.takerFee = m.takerFeePpm;
        // Funding indices: word 0 of the market's FundingStorage.MarketFunding (longIndex low, shortIndex high).
        uint256 slot = uint256(FundingStorage.SLOT) + 2 * market;
        int256 longIndex;
        int256 shortIndex;
        assembly ("memory-safe") {
            let v := sload(slot)
            longIndex := signextend(15, v)
            shortIndex := sar(128, v)
        }
        mk.longIndex = longIndex;
        mk.shortIndex = shortIndex;
    }

    /// @dev Loads the mark once per market per batch; false when the feed is unusable.
    function _priced(Ctx memory c, uint256 market) private view returns (bool) {
        MarketCtx memory mk = c.markets[market];
        if (!mk.loaded) _loadMarket(mk, market);
        if (!mk.priceRead) {
            mk.priceRead = true;
            (PriceStatus s, int256 price, , ) = _readPrice(_markets[market]);
            mk.priced = s == PriceStatus.Ok;
            mk.mark = price;
        }
        return mk.priced;
    }

    function _positionKey(address account, uint256 market, uint64 number) private pure returns (uint256) {
        return uint256(uint160(account)) | (market << 160) | (uint256(number) << 166) | (1 << 255);
    }

    function _positionIndex(Ctx memory c, uint256 acct, address account, uint32 market) private returns (uint256 idx) {
        uint256 key = _positionKey(account, market, c.number);
        uint256 v;
        assembly ("memory-safe") {
            v := tload(key)
        }
        if (v != 0) return v - 1;
        uint256 w = _positions[account][market];
        // A new PositionCtx {acct, market, word, size, touched, owed}, appended at c.nPositions (one per order
        // at most). Its pending funding (Funding._pendingFunding, with the market's indices loaded by
        // _loadMarket, MarketCtx.longIndex/shortIndex at 0x160/0x180) is settled into the account's running
        // cash and taken from its cashBefore (AccountCtx 0x40, 0xe0) right away: the position is written with
        // a fresh snapshot at commit whenever its account is. (The same as newPosition in _loadOrderStateFast;
        // Yul functions keep the non-IR coverage build within the stack.)
        assembly ("memory-safe") {
            function owedOf(ctx, m, w_) -> owed {
                let sz := signextend(7, w_)
                if sz {
                    let mk := mload(add(add(mload(add(ctx, 0xc0)), 0x20), shl(5, m)))
                    let index := mload(add(mk, 0x160))
                    if slt(sz, 0) {
                        index := mload(add(mk, 0x180))
                    }
                    // |sz| < 2^63, |index - snapshot| < 2^129: the signed product fits; ceil(prod / 1e14)
                    let prod := mul(sz, sub(index, signextend(15, shr(64, w_))))
                    owed := add(sdiv(prod, 100000000000000), sgt(smod(prod, 100000000000000), 0))
                }
            }
            function newPosition(ctx, acct_, m, w_) -> idx_ {
                idx_ := mload(add(ctx, 0xa0))
                mstore(add(ctx, 0xa0), add(idx_, 1))
                let p := mload(0x40)
                mstore(0x40, add(p, 0xc0))
                mstore(p, acct_)
                mstore(add(p, 0x20), m)
                mstore(add(p, 0x40), w_)
                mstore(add(p, 0x60), signextend(7, w_)) // size int64
                mstore(add(p, 0x80), 0)
                let owed := owedOf(ctx, m, w_)
                if owed {
                    let a := mload(add(add(mload(add(ctx, 0x40)), 0x20), shl(5, acct_)))
                    mstore(add(a, 0x40), sub(mload(add(a, 0x40)), owed))
                    mstore(add(a, 0xe0), sub(mload(add(a, 0xe0)), owed))
                }
                mstore(add(p, 0xa0), owed)
                mstore(add(add(mload(add(ctx, 0x80)), 0x20), shl(5, idx_)), p)
            }
            idx := newPosition(c, acct, and(market, 0xffffffff), w)
            tstore(key, add(idx, 1))
        }
    }

    // ---------------------------------------------------------------- fills

    /// @dev One fill: every check, then (if none failed) the cash and size moves and FillSettled.
    /// @dev The fields of the fill at calldata offset `src`: six ABI words, or (packed) 36 bytes: maker 2,
    ///      taker 2, size 8, price 8, makerFee 8, takerFee 8 (big-endian, fees two's complement). The ABI
    ///      words must be clean, as ABI decoding requires (dirty bits revert).
    function _decodeFill(
        uint256 src,
        bool packed
    )
        private
        pure
        returns (uint256 maker, uint256 taker, uint256 size, uint256 price, int256 makerFee, int256 takerFee)
    {
        assembly ("memory-safe") {
            switch packed
            case 0 {
                maker := calldataload(src)
                taker := calldataload(add(src, 0x20))
                size := calldataload(add(src, 0x40))
                price := calldataload(add(src, 0x60))
                makerFee := calldataload(add(src, 0x80))
                takerFee := calldataload(add(src, 0xa0))
                // uint16, uint16, uint64, uint64, int64, int64
                if or(
                    or(shr(16, maker), shr(16, taker)),
                    or(
                        or(shr(64, size), shr(64, price)),
                        or(iszero(eq(makerFee, signextend(7, makerFee))), iszero(eq(takerFee, signextend(7, takerFee))))
                    )
                ) {
                    revert(0, 0)
                }
            }
            default {
                let w := calldataload(src)
                maker := shr(240, w)
                taker := and(shr(224, w), 0xffff)
                w := calldataload(add(src, 4))
                size := shr(192, w)
                price := and(shr(128, w), 0xffffffffffffffff)
                makerFee := signextend(7, shr(64, w))
                takerFee := signextend(7, w)
            }
        }
    }

    function _settleFill(uint256 src, Ctx memory c, uint256 j) private {
        (uint256 maker, uint256 taker, uint256 size, uint256 price, int256 makerFee, int256 takerFee) = _decodeFill(
            src,
            c.packed
        );
        bool ok;
        // Fast path: true only when every check of _checkPair, _checkPriceAndSize and _checkFeesAndReduceOnly
        // passes (it is at least as strict: reduce-only orders and a market not priced yet take the slow
        // path). Anything else goes to the slow path, which finds the exact reason (or applies the fill).
        // Layouts: Ctx {number, orders, accounts, nAccounts, positions, nPositions, markets, ..};
        // OrderCtx {hash, status, bitsBefore, filledBefore, filled, pos, account, market, isBuy, reduceOnly,
        // price, size, nonce, expiry}; MarketCtx {loaded, priceRead, priced, mark, tick, lot, minSize, imf,
        // mmf, makerFee, takerFee}.
        assembly ("memory-safe") {
            // Checks of _checkPair except pricing, and no reduce-only order (both status None first).
            function pairOk(mo, to) -> r {
                r := and(iszero(mload(add(mo, 0x20))), iszero(mload(add(to, 0x20))))
                r := and(r, eq(mload(add(mo, 0xe0)), mload(add(to, 0xe0))))
                r := and(r, iszero(eq(mload(add(mo, 0x100)), mload(add(to, 0x100)))))
                r := and(r, iszero(eq(mload(add(mo, 0xc0)), mload(add(to, 0xc0)))))
                r := and(r, iszero(or(mload(add(mo, 0x120)), mload(add(to, 0x120)))))
            }
            // _checkPriceAndSize for a priced market `mk`.
            function priceSizeOk(mo, to, mk, sz, px) -> r {
                r := and(mload(add(mk, 0x20)), mload(add(mk, 0x40))) // price read and usable
                r := and(r, and(iszero(iszero(px)), iszero(mod(px, mload(add(mk, 0x80))))))
                switch mload(add(mo, 0x100))
                case 0 {
                    r := and(r, and(iszero(lt(px, mload(add(mo, 0x140)))), iszero(gt(px, mload(add(to, 0x140))))))
                }
                default {
                    r := and(r, and(iszero(gt(px, mload(add(mo, 0x140)))), iszero(lt(px, mload(add(to, 0x140))))))
                }
                r := and(r, and(iszero(iszero(sz)), iszero(mod(sz, mload(add(mk, 0xa0))))))
                // filled <= size for every valid order
                r := and(r, iszero(gt(sz, sub(mload(add(mo, 0x160)), mload(add(mo, 0x80))))))
                r := and(r, iszero(gt(sz, sub(mload(add(to, 0x160)), mload(add(to, 0x80))))))
            }
            // _feeCap: notional < 2^128, |rate| <= 1e5; d = SIZE_ONE * RATE_ONE
            function feeCap(notional, rate) -> cap {
                let d := 100000000000000
                switch slt(rate, 0)
                case 0 {
                    cap := div(add(mul(notional, rate), sub(d, 1)), d)
                }
                default {
                    cap := sub(0, div(mul(notional, sub(0, rate)), d))
                }
            }
            let orders := mload(add(c, 0x20))
            ok := and(and(lt(maker, mload(orders)), lt(taker, mload(orders))), iszero(eq(maker, taker)))
            if ok {
                let mo := mload(add(add(orders, 0x20), shl(5, maker)))
                let to := mload(add(add(orders, 0x20), shl(5, taker)))
                ok := pairOk(mo, to)
                if ok {
                    // market < markets.length: a valid order's market was checked at load
                    let mk := mload(add(add(mload(add(c, 0xc0)), 0x20), shl(5, mload(add(mo, 0xe0)))))
                    ok := priceSizeOk(mo, to, mk, size, price)
                    let notional := mul(size, price)
                    ok := and(ok, iszero(sgt(makerFee, feeCap(notional, mload(add(mk, 0x120))))))
                    ok := and(ok, iszero(sgt(takerFee, feeCap(notional, mload(add(mk, 0x140))))))
                    ok := and(ok, iszero(slt(add(makerFee, takerFee), 0)))
                }
            }
        }
        if (ok) {
            _applyFill(
                c,
                c.orders[maker],
                c.orders[taker],
                uint64(size),
                uint64(price),
                int64(makerFee),
                int64(takerFee)
            );
            return;
        }
        _settleFillChecked(src, c, j);
    }

    /// @dev The slow path: every check in order, so a skipped fill names its exact reason.
    function _settleFillChecked(uint256 src, Ctx memory c, uint256 j) private {
        // In range (and, for ABI words, clean): _settleFill decoded the same fill first.
        (uint256 maker, uint256 taker, uint256 size, uint256 price, int256 makerFee, int256 takerFee) = _decodeFill(
            src,
            c.packed
        );
        (SkipReason reason, bytes32 culprit) = _checkPair(c, maker, taker);
        if (reason == SkipReason.None) {
            OrderCtx memory mo = c.orders[maker];
            OrderCtx memory to = c.orders[taker];
            (reason, culprit) = _checkPriceAndSize(c, mo, to, size, price);
            if (reason == SkipReason.None) {
                (reason, culprit) = _checkFeesAndReduceOnly(c, mo, to, size, price, makerFee, takerFee);
                if (reason == SkipReason.None) {
                    _applyFill(c, mo, to, uint64(size), uint64(price), int64(makerFee), int64(takerFee));
                    return;
                }
            }
        }
        unchecked {
            ++c.skipped;
        }
        emit FillSkipped(c.number, j, reason, culprit);
    }

    /// @dev Both orders valid, same market, opposite sides, different accounts, market priced.
    function _checkPair(Ctx memory c, uint256 maker, uint256 taker) private view returns (SkipReason, bytes32) {
        uint256 n = c.orders.length;
        if (maker >= n || taker >= n) return (SkipReason.OrderIndexOutOfRange, 0);
        if (maker == taker) return (SkipReason.SameOrder, 0);
        OrderCtx memory mo = c.orders[maker];
        OrderCtx memory to = c.orders[taker];
        if (mo.status != SkipReason.None) return (mo.status, mo.hash);
        if (to.status != SkipReason.None) return (to.status, to.hash);
        if (mo.market != to.market) return (SkipReason.CrossMarket, 0);
        if (mo.isBuy == to.isBuy) return (SkipReason.SameSide, 0);
        if (mo.account == to.account) return (SkipReason.SelfTrade, 0);
        if (!_priced(c, mo.market)) return (SkipReason.OracleUnavailable, 0);
        return (SkipReason.None, 0);
    }

    /// @dev Price on the tick and within both limits; size on the lot and within what remains of both.
    function _checkPriceAndSize(
        Ctx memory c,
        OrderCtx memory mo,
        OrderCtx memory to,
        uint256 size,
        uint256 price
    ) private pure returns (SkipReason, bytes32) {
        MarketCtx memory mk = c.markets[mo.market];
        if (price == 0 || price % mk.tick != 0) return (SkipReason.PriceNotOnTick, 0);
        if (mo.isBuy ? price > mo.price : price < mo.price) return (SkipReason.PriceOutsideLimit, mo.hash);
        if (to.isBuy ? price > to.price : price < to.price) return (SkipReason.PriceOutsideLimit, to.hash);
        if (size == 0 || size % mk.lot != 0) return (SkipReason.InvalidFillSize, 0);
        // filled <= size for every valid order (checked at load and on every fill)
        unchecked {
            if (size > mo.size - mo.filled) return (SkipReason.Overfill, mo.hash);
            if (size > to.size - to.filled) return (SkipReason.Overfill, to.hash);
        }
        return (SkipReason.None, 0);
    }

    /// @dev Fees within the market rates and not net negative; reduce-only orders only reduce.
    function _checkFeesAndReduceOnly(
        Ctx memory c,
        OrderCtx memory mo,
        OrderCtx memory to,
        uint256 size,
        uint256 price,
        int256 makerFee,
        int256 takerFee
    ) private pure returns (SkipReason, bytes32) {
        MarketCtx memory mk = c.markets[mo.market];
        // size, price < 2^64 and |rate| <= 1e5 < 2^17: the product is below 2^145 (Margin.feeCap, exactly).
        uint256 notional = size * price;
        if (makerFee > _feeCap(notional, mk.makerFee)) return (SkipReason.FeeTooHigh, mo.hash);
        if (takerFee > _feeCap(notional, mk.takerFee)) return (SkipReason.FeeTooHigh, to.hash);
        unchecked {
            if (makerFee + takerFee < 0) return (SkipReason.NegativeFees, 0); // int64 + int64: no overflow
        }
        if (mo.reduceOnly && !_reduces(c.positions[mo.pos].size, mo.isBuy, size)) {
            return (SkipReason.ReduceOnly, mo.hash);
        }
        if (to.reduceOnly && !_reduces(c.positions[to.pos].size, to.isBuy, size)) {
            return (SkipReason.ReduceOnly, to.hash);
        }
        return (SkipReason.None, 0);
    }

    /// @dev Margin.feeCap(size, price, rate) for notional = size * price < 2^128 and |rate| <= 1e5:
    ///      ceil(notional * rate / (SIZE_ONE * RATE_ONE)), i.e. rounded toward zero for a rebate.
    function _feeCap(uint256 notional, int256 ratePpm) private pure returns (int256) {
        unchecked {
            uint256 d = uint256(Units.SIZE_ONE * Units.RATE_ONE);
            if (ratePpm >= 0) return int256((notional * uint256(ratePpm) + d - 1) / d);
            return -int256((notional * uint256(-ratePpm)) / d);
        }
    }

    /// @dev A fill of `size` on side `isBuy` only shrinks position `pos` (never grows or flips it).
    function _reduces(int256 pos, bool isBuy, uint256 size) private pure returns (bool) {
        // size < 2^64 and |pos| < 2^96 (int64 at load plus at most 2^16 fills of uint64 size)
        return isBuy ? (pos < 0 && int256(size) <= -pos) : (pos > 0 && int256(size) <= pos);
    }

    /// @dev Applies a checked fill: the buyer pays ceil(size * price / 1e8) plus its fee, the seller gets
    ///      floor(size * price / 1e8) minus its fee (Margin.tradeCash), the remainder and both fees go to
    ///      c.fees; sizes move in the positions; both orders' filled amounts grow; FillSettled. In assembly
    ///      (layouts as in _settleFill; PositionCtx {acct, market, word, size, touched, owed}, AccountCtx.cash
    ///      and touched at 0x40 and 0xc0; Ctx.fees and settled at 0xe0 and 0x100). Sizes and prices are below
    ///      2^64, fees below 2^63, cash below 2^119 at load: no int256 overflow within one batch of at most
    ///      2^16 orders (positions and cash are range-checked when written); size <= what remains of both
    ///      orders (checked), so filled <= order size < 2^64.
    function _applyFill(
        Ctx memory c,
        OrderCtx memory mo,
        OrderCtx memory to,
        uint64 size,
        uint64 price,
        int64 makerFee,
        int64 takerFee
    ) private {
        bytes32 topic = FillSettled.selector;
        assembly ("memory-safe") {
            // Moves `sz` from the seller's position to the buyer's, debits the buyer, credits the seller.
            function moveFill(ctx, buyOrder, sellOrder, sz, buyerDebit, sellerCredit) {
                let positions := add(mload(add(ctx, 0x80)), 0x20)
                let accounts := add(mload(add(ctx, 0x40)), 0x20)
                let bp := mload(add(positions, shl(5, mload(add(buyOrder, 0xa0)))))
                let sp := mload(add(positions, shl(5, mload(add(sellOrder, 0xa0)))))
                mstore(add(bp, 0x60), add(mload(add(bp, 0x60)), sz))
                mstore(add(sp, 0x60), sub(mload(add(sp, 0x60)), sz))
                mstore(add(bp, 0x80), 1)
                mstore(add(sp, 0x80), 1)
                let ba := mload(add(accounts, shl(5, mload(bp))))
                let sa := mload(add(accounts, shl(5, mload(sp))))
                mstore(add(ba, 0x40), sub(mload(add(ba, 0x40)), buyerDebit))
                mstore(add(sa, 0x40), add(mload(add(sa, 0x40)), sellerCredit))
                mstore(add(ba, 0xc0), 1)
                mstore(add(sa, 0xc0), 1)
            }
            // Margin.tradeCash: (ceil(sz * px / 1e8), floor(sz * px / 1e8))
            function tradeCash(sz, px) -> pays, gets {
                let prod := mul(sz, px)
                gets := div(prod, 100000000)
                pays := add(gets, iszero(iszero(mod(prod, 100000000))))
            }
            // The fill's moves from its event data d (size, price, makerFee, takerFee at 0x80..0xe0).
            function applyFill(ctx, maker, taker, d) {
                let sz := mload(add(d, 0x80))
                let pays, gets := tradeCash(sz, mload(add(d, 0xa0)))
                switch mload(add(d, 0x60))
                case 0 {
                    moveFill(ctx, maker, taker, sz, add(pays, mload(add(d, 0xc0))), sub(gets, mload(add(d, 0xe0))))
                }
                default {
                    moveFill(ctx, taker, maker, sz, add(pays, mload(add(d, 0xe0))), sub(gets, mload(add(d, 0xc0))))
                }
                let fees := add(add(mload(add(d, 0xc0)), mload(add(d, 0xe0))), sub(pays, gets))
                mstore(add(ctx, 0xe0), add(mload(add(ctx, 0xe0)), fees))
                mstore(add(maker, 0x80), add(mload(add(maker, 0x80)), sz))
                mstore(add(taker, 0x80), add(mload(add(taker, 0x80)), sz))
                mstore(add(ctx, 0x100), add(mload(add(ctx, 0x100)), 1))
            }
            // FillSettled(batch, maker, taker, makerOrderHash, takerOrderHash, market, takerIsBuy, size, price,
            // makerFee, takerFee): three indexed topics, eight data words
            let ptr := mload(0x40)
            mstore(ptr, mload(mo))
            mstore(add(ptr, 0x20), mload(to))
            mstore(add(ptr, 0x40), mload(add(to, 0xe0)))
            mstore(add(ptr, 0x60), iszero(iszero(mload(add(to, 0x100)))))
            mstore(add(ptr, 0x80), and(size, 0xffffffffffffffff))
            mstore(add(ptr, 0xa0), and(price, 0xffffffffffffffff))
            mstore(add(ptr, 0xc0), signextend(7, makerFee))
            mstore(add(ptr, 0xe0), signextend(7, takerFee))
            applyFill(c, mo, to, ptr)
            log4(ptr, 0x100, topic, mload(c), mload(add(mo, 0xc0)), mload(add(to, 0xc0)))
        }
    }

    // ---------------------------------------------------------------- commit

    /// @dev Writes filled amounts: a fully filled order sets its CLOSED bit (and frees its filled slot);
    ///      a partially filled one keeps its amount in `_filled` and sets its PARTIAL bit.
    function _commitOrders(Ctx memory c) private {
        uint256 n = c.orders.length;
        for (uint256 i = _commitOrdersFast(c); i < n; i = _inc(i)) {
            OrderCtx memory oc = c.orders[i];
            bool done;
            // Fast path (layouts as in _settleFill; PositionCtx.acct and AccountCtx.minNonce at 0x00 and 0x60):
            // done when the order is skipped or unfilled in this batch, or fully filled at its account's
            // minimum nonce without a filled amount to free (the minimum advances). Else the full logic below.
            assembly ("memory-safe") {
                done := or(mload(add(oc, 0x20)), eq(mload(add(oc, 0x80)), mload(add(oc, 0x60))))
                if iszero(done) {
                    let nonce := mload(add(oc, 0x180))
                    let p := mload(add(add(mload(add(c, 0x80)), 0x20), shl(5, mload(add(oc, 0xa0)))))
                    let a := mload(add(add(mload(add(c, 0x40)), 0x20), shl(5, mload(p))))
                    if and(
                        and(eq(mload(add(oc, 0x80)), mload(add(oc, 0x160))), eq(nonce, mload(add(a, 0x60)))),
                        and(lt(nonce, 0xffffffffffffffff), iszero(and(mload(add(oc, 0x40)), 2)))
                    ) {
                        mstore(add(a, 0x60), add(nonce, 1))
                        done := 1
                    }
                }
            }
            if (!done) _commitOrder(c, oc);
        }
    }

    /// @dev The loop of _commitOrders in assembly while every order is done by its fast path (skipped,
    ///      unfilled in this batch, or fully filled at its account's minimum nonce without a filled amount to
    ///      free); returns the index of the first order that is not (or n), from which _commitOrders goes on
    ///      in order (a later order may close at the minimum nonce that an earlier one advanced).
    function _commitOrdersFast(Ctx memory c) private pure returns (uint256 i) {
        assembly ("memory-safe") {
            let ocs := mload(add(c, 0x20))
            let n := mload(ocs)
            let positions := add(mload(add(c, 0x80)), 0x20)
            let accounts := add(mload(add(c, 0x40)), 0x20)
            for {} lt(i, n) {
                i := add(i, 1)
            } {
                let oc := mload(add(add(ocs, 0x20), shl(5, i)))
                let filled := mload(add(oc, 0x80))
                if iszero(or(mload(add(oc, 0x20)), eq(filled, mload(add(oc, 0x60))))) {
                    let nonce := mload(add(oc, 0x180))
                    let a := mload(add(accounts, shl(5, mload(mload(add(positions, shl(5, mload(add(oc, 0xa0)))))))))
                    if iszero(
                        and(
                            and(eq(filled, mload(add(oc, 0x160))), eq(nonce, mload(add(a, 0x60)))),
                            and(lt(nonce, 0xffffffffffffffff), iszero(and(mload(add(oc, 0x40)), 2)))
                        )
                    ) {
                        break
                    }
                    mstore(add(a, 0x60), add(nonce, 1))
                }
            }
        }
    }

    function _commitOrder(Ctx memory c, OrderCtx memory oc) private {
        // A fully filled or partially filled order that the fast path in _commitOrders did not settle.
        OrderCtx memory o = oc;
        if (oc.filled == o.size) {
            // A fully filled order at the account's minimum nonce closes by advancing the minimum
            // (the account word is written anyway), sparing a nonce-bitmap write.
            AccountCtx memory a = c.accounts[c.positions[oc.pos].acct];
            if (o.nonce == a.minNonce && o.nonce != type(uint64).max) {
                a.minNonce = o.nonce + 1;
                if (oc.bitsBefore & Packing.PARTIAL != 0) delete _filled[oc.hash];
                return;
            }
        }
        // This sets a nonce bit: flag the account (its word is written, as the order filled).
        c.accounts[c.positions[oc.pos].acct].nonceBits = true;
        (uint256 wi, uint256 shift) = Packing.nonceSlot(o.nonce);
        mapping(uint256 => uint256) storage words = _nonceWords[o.account];
        uint256 word = words[wi];
        uint256 newWord;
        if (oc.filled == o.size) {
            newWord = (word & ~(Packing.PARTIAL << shift)) | (Packing.CLOSED << shift);
            if (oc.bitsBefore & Packing.PARTIAL != 0) delete _filled[oc.hash];
        } else {
            newWord = word | (Packing.PARTIAL << shift);
            _filled[oc.hash] = oc.filled;
        }
        if (newWord != word) words[wi] = newWord;
    }

    /// @dev Writes every traded position, and every loaded position whose funding was settled into an
    ///      account that is written: size and a snapshot of its side's index (zero word when flat)
    ///      (Funding._positionWordAt); updates the account's open-market bits; adds each change of the long size
    ///      to its market's open-interest delta; emits PositionChanged. In assembly (layouts as in _settleFill;
    ///      PositionCtx {acct, market, word, size, touched, owed}, AccountCtx {account, word, cash, minNonce,
    ///      openAfter, nonceBits, touched, cashBefore}, MarketCtx.longIndex/shortIndex/oiDelta at
    ///      0x160/0x180/0x1a0, Ctx.oiMarkets at 0x140). A size outside int64 reverts (SafeCast, as in storage).
    function _commitPositions(Ctx memory c) private {
        uint256 np = c.nPositions;
        bytes32 topic = PositionChanged.selector;
        int256 badSize;
        bool bad;
        uint256 slot;
        assembly ("memory-safe") {
            slot := _positions.slot
        }
        // Split into Yul functions so the non-IR (coverage) build stays within the stack.
        assembly ("memory-safe") {
            // _positions[account][m] = w
            function writeWord(account, m, slot_, w) {
                mstore(0, account)
                mstore(0x20, slot_)
                mstore(0x20, keccak256(0, 0x40))
                mstore(0, m)
                sstore(keccak256(0, 0x40), w)
            }
            // Funding._positionWordAt: size and the snapshot of its side's index; zero when flat
            function wordOf(size, mk) -> w {
                if size {
                    let index := mload(add(mk, 0x160))
                    if slt(size, 0) {
                        index := mload(add(mk, 0x180))
                    }
                    w := or(and(size, 0xffffffffffffffff), shl(64, and(index, 0xffffffffffffffffffffffffffffffff)))
                }
            }
            // PositionChanged(account, market, oldSize, newSize, cash) of position p of account a
            function emitChanged(topic_, p, a, m) {
                let ptr := mload(0x40)
                mstore(ptr, signextend(7, mload(add(p, 0x40))))
                mstore(add(ptr, 0x20), mload(add(p, 0x60)))
                mstore(add(ptr, 0x40), mload(add(a, 0x40)))
                log3(ptr, 0x60, topic_, mload(a), m)
            }
            // Writes position p of account a; returns its market and its open-interest delta (also added to
            // the market's oiDelta): max(size, 0) - max(oldSize, 0), |d| < 2^97 over < 2^17 positions.
            function commitOne(p, a, markets, slot_) -> m, d {
                let size := mload(add(p, 0x60))
                m := mload(add(p, 0x20))
                let mk := mload(add(add(markets, 0x20), shl(5, m)))
                let account := mload(a)
                writeWord(account, m, slot_, wordOf(size, mk))
                switch size
                case 0 {
                    mstore(add(a, 0x80), and(mload(add(a, 0x80)), not(shl(m, 1))))
                }
                default {
                    mstore(add(a, 0x80), or(mload(add(a, 0x80)), shl(m, 1)))
                }
                let oldSize := signextend(7, mload(add(p, 0x40)))
                d := sub(mul(size, sgt(size, 0)), mul(oldSize, sgt(oldSize, 0)))
                if d {
                    mstore(add(mk, 0x1a0), add(mload(add(mk, 0x1a0)), d))
                }
            }
            // Every position of the context; returns (true, size) at the first size outside int64.
            function commitAll(ctx, np_, topic_, slot_) -> bad_, badSize_ {
                let oiMask := mload(add(ctx, 0x140))
                for {
                    let i := 0
                } lt(i, np_) {
                    i := add(i, 1)
                } {
                    let p := mload(add(add(mload(add(ctx, 0x80)), 0x20), shl(5, i)))
                    let a := mload(add(add(mload(add(ctx, 0x40)), 0x20), shl(5, mload(p))))
                    if iszero(mload(add(p, 0x80))) {
                        // not traded: written only when its funding was settled into an account that is written
                        if or(iszero(mload(add(p, 0xa0))), iszero(mload(add(a, 0xc0)))) {
                            continue
                        }
                    }
                    badSize_ := mload(add(p, 0x60))
                    if iszero(eq(badSize_, signextend(7, badSize_))) {
                        bad_ := 1
                        break
                    }
                    let m, d := commitOne(p, a, mload(add(ctx, 0xc0)), slot_)
                    emitChanged(topic_, p, a, m)
                    if d {
                        oiMask := or(oiMask, shl(m, 1))
                    }
                }
                mstore(add(ctx, 0x140), oiMask)
            }
            bad, badSize := commitAll(c, np, topic, slot)
        }
        if (bad) badSize.toInt64(); // reverts SafeCastOverflowedIntDowncast(64, size)
    }

    /// @dev One open-interest write per market whose long size changed in the batch.
    function _commitOpenInterest(Ctx memory c) private {
        uint256 mask = c.oiMarkets;
        for (uint256 m = 0; mask != 0; (m, mask) = (m + 1, mask >> 1)) {
            if (mask & 1 == 0) continue;
            int256 d = c.markets[m].oiDelta;
            if (d != 0) _addOpenInterest(_fundingMarket(m), m, d);
        }
    }

    function _commitAccounts(Ctx memory c) private {
        uint256 na = c.nAccounts;
        for (uint256 i = _commitAccountsFast(c); i < na; ++i) {
            AccountCtx memory a = c.accounts[i];
            if (!a.touched) continue;
            if (!_passesFast(c, a)) _checkAccount(c, a);
            _accounts[a.account] = Packing.packAccount(a.cash.toInt120(), a.minNonce, a.openAfter, a.nonceBits);
        }
    }

    /// @dev The loop of _commitAccounts in assembly for the common case: a touched account whose every market
    ///      is priced and has its position in the batch context, whose equity after the batch meets its initial
    ///      requirement (the first clause of Margin.passesSettlementCheck, so it passes whatever its health
    ///      before) and whose cash fits int120, is written (Packing.packAccount). Returns the index of the first
    ///      touched account that is not such a case (or nAccounts), from which _commitAccounts goes on with
    ///      the full check (_passesFast, _checkAccount). Equity and requirement as in _passesFast (Margin.add):
    ///      value floor(size * mark / 1e8) (a short's rounded down too), requirement
    ///      ceil(ceil(|size| * mark / 1e8) * imf / 1e6); |size| < 2^96, 0 < mark < 2^64, imf <= 1e6.
    function _commitAccountsFast(Ctx memory c) private returns (uint256 i) {
        uint256 slot;
        assembly ("memory-safe") {
            slot := _accounts.slot
        }
        uint256 base = (uint256(c.number) << 166) | (1 << 255); // _positionKey without account and market
        assembly ("memory-safe") {
            // (every market priced and in the context, equity after, initial requirement after) of account a
            function afterBatch(ctx, a, key) -> ok, eqA, imA {
                eqA := mload(add(a, 0x40))
                let mask := or(shr(192, mload(add(a, 0x20))), mload(add(a, 0x80)))
                let markets := add(mload(add(ctx, 0xc0)), 0x20)
                ok := 1
                for {
                    let m := 0
                } mask {
                    m := add(m, 1)
                    mask := shr(1, mask)
                } {
                    if and(mask, 1) {
                        let mk := mload(add(markets, shl(5, m)))
                        let v := tload(or(key, shl(160, m)))
                        if iszero(and(and(mload(add(mk, 0x20)), mload(add(mk, 0x40))), iszero(iszero(v)))) {
                            ok := 0
                            break
                        }
                        let sz := mload(add(mload(add(add(mload(add(ctx, 0x80)), 0x20), shl(5, sub(v, 1)))), 0x60))
                        let mag := sz
                        if slt(sz, 0) {
                            mag := sub(0, sz)
                        }
                        let prod := mul(mag, mload(add(mk, 0x60)))
                        let q := div(prod, 100000000)
                        let up := add(q, iszero(iszero(mod(prod, 100000000))))
                        switch slt(sz, 0)
                        case 0 {
                            eqA := add(eqA, q)
                        }
                        default {
                            eqA := sub(eqA, up)
                        }
                        imA := add(imA, div(add(mul(up, mload(add(mk, 0xe0))), 999999), 1000000))
                    }
                }
            }
            let accounts := add(mload(add(c, 0x40)), 0x20)
            let na := mload(add(c, 0x60))
            for {} lt(i, na) {
                i := add(i, 1)
            } {
                let a := mload(add(accounts, shl(5, i)))
                if mload(add(a, 0xc0)) {
                    let cash := mload(add(a, 0x40))
                    let ok, eqA, imA := afterBatch(c, a, or(mload(a), base))
                    if iszero(and(and(ok, iszero(slt(eqA, imA))), eq(cash, signextend(14, cash)))) {
                        break
                    }
                    // Packing.packAccount(cash, minNonce, openAfter, nonceBits)
                    let w := or(
                        and(cash, 0xffffffffffffffffffffffffffffff),
                        shl(120, iszero(iszero(mload(add(a, 0xa0)))))
                    )
                    w := or(w, or(shl(128, mload(add(a, 0x60))), shl(192, mload(add(a, 0x80)))))
                    mstore(0, mload(a))
                    mstore(0x20, slot)
                    sstore(keccak256(0, 0x40), w)
                }
            }
        }
    }

    /// @dev The end-of-batch margin check of _checkAccount (Margin.add, Margin.passesSettlementCheck) in
    ///      assembly, for accounts whose every market is priced and whose every position is in the batch
    ///      context. True only when the account passes; false sends it to _checkAccount (exact, reverts).
    ///      Bounds as in Margin.add: |size| < 2^96, 0 < mark < 2^64, fractions <= 1e6, cash an int120.
    function _passesFast(Ctx memory c, AccountCtx memory a) private view returns (bool ok) {
        uint256 batchNumber = c.number;
        assembly ("memory-safe") {
            // Margin._valueAndNotional: (floor(size * mark / SIZE_ONE), ceil(|size| * mark / SIZE_ONE))
            function valueAndNotional(sz, mark) -> value, up {
                let mag := sz
                if slt(sz, 0) {
                    mag := sub(0, sz)
                }
                let prod := mul(mag, mark)
                let q := div(prod, 100000000)
                up := add(q, iszero(iszero(mod(prod, 100000000))))
                value := q
                if slt(sz, 0) {
                    value := sub(0, up)
                }
            }
            // Margin._fractionCeil
            function fractionCeil(notional, ppm) -> r {
                r := div(add(mul(notional, ppm), 999999), 1000000)
            }
            function abs(x) -> r {
                r := x
                if slt(x, 0) {
                    r := sub(0, x)
                }
            }
            // Margin.add for one market into the totals at t (Margin.Totals layout, in scratch memory).
            function addMarket(t, sb, sa, mk) {
                let mark := mload(add(mk, 0x60))
                if sb {
                    let value, up := valueAndNotional(sb, mark)
                    mstore(t, add(mload(t), value))
                    mstore(add(t, 0x20), add(mload(add(t, 0x20)), fractionCeil(up, mload(add(mk, 0x100)))))
                }
                if sa {
                    let value, up := valueAndNotional(sa, mark)
                    mstore(add(t, 0x40), add(mload(add(t, 0x40)), value))
                    mstore(add(t, 0x60), add(mload(add(t, 0x60)), fractionCeil(up, mload(add(mk, 0xe0)))))
                    mstore(add(t, 0x80), add(mload(add(t, 0x80)), fractionCeil(up, mload(add(mk, 0x100)))))
                    // Margin.grew: |after| > |before|, or a non-zero before on the other side
                    if or(gt(abs(sa), abs(sb)), and(iszero(iszero(sb)), iszero(eq(slt(sb, 0), slt(sa, 0))))) {
                        mstore(add(t, 0xa0), 1)
                    }
                }
            }
            // Totals {equityBefore, mmBefore, equityAfter, imAfter, mmAfter, riskGrew} past the free pointer
            let t := mload(0x40)
            let w := mload(add(a, 0x20))
            mstore(t, mload(add(a, 0xe0))) // cashBefore
            mstore(add(t, 0x20), 0)
            mstore(add(t, 0x40), mload(add(a, 0x40)))
            mstore(add(t, 0x60), 0)
            mstore(add(t, 0x80), 0)
            mstore(add(t, 0xa0), 0)
            let mask := or(shr(192, w), mload(add(a, 0x80)))
            let key := or(mload(a), or(shl(166, batchNumber), shl(255, 1))) // _positionKey without the market
            ok := 1
            for {
                let m := 0
            } and(ok, iszero(iszero(mask))) {
                m := add(m, 1)
                mask := shr(1, mask)
            } {
                if and(mask, 1) {
                    let mk := mload(add(add(mload(add(c, 0xc0)), 0x20), shl(5, m)))
                    let v := tload(or(key, shl(160, m)))
                    ok := and(and(mload(add(mk, 0x20)), mload(add(mk, 0x40))), iszero(iszero(v)))
                    if ok {
                        let p := mload(add(add(mload(add(c, 0x80)), 0x20), shl(5, sub(v, 1))))
                        addMarket(t, signextend(7, mload(add(p, 0x40))), mload(add(p, 0x60)), mk)
                    }
                }
            }
            // Margin.passesSettlementCheck: IM met, or (risk did not grow, equity >= 0, health not worse)
            if ok {
                let eqA := mload(add(t, 0x40))
                ok := or(
                    iszero(slt(eqA, mload(add(t, 0x60)))),
                    and(
                        and(iszero(mload(add(t, 0xa0))), iszero(slt(eqA, 0))),
                        iszero(slt(sub(eqA, mload(add(t, 0x80))), sub(mload(t), mload(add(t, 0x20)))))
                    )
                )
            }
        }
    }

    /// @dev The end-of-batch margin check (sdk passesSettlementCheck) over every market the account held
    ///      before or holds after the batch.
    function _checkAccount(Ctx memory c, AccountCtx memory a) private view {
        Margin.Totals memory t;
        t.equityBefore = a.cashBefore;
        t.equityAfter = a.cash;
        uint256 mask = uint256(a.word.openMarkets() | a.openAfter);
        unchecked {
            for (uint256 m = 0; mask != 0; (m, mask) = (m + 1, mask >> 1)) {
                if (mask & 1 == 0) continue;
                (int256 before, int256 afterSize, int256 pending) = _sizes(c, a.account, m);
                // A position outside the batch context keeps its funding pending: it counts on both sides.
                t.equityBefore -= pending;
                t.equityAfter -= pending;
                MarketCtx memory mk = c.markets[m];
                if (!mk.priceRead || !mk.priced) {
                    if (!_priced(c, m)) revert MarkPriceUnavailable(a.account, uint32(m));
                }
                Margin.add(t, before, afterSize, mk.mark, mk.imf, mk.mmf);
            }
        }
        if (!Margin.passesSettlementCheck(t)) {
            revert AccountMarginCheckFailed(
                a.account,
                t.equityAfter,
                uint256(t.imAfter),
                t.equityBefore - t.mmBefore,
                t.equityAfter - t.mmAfter
            );
        }
    }

    /// @dev Size before and after the batch, and the pending funding not yet taken into the running cash
    ///      (zero for a position of the batch context, whose funding was settled at load).
    function _sizes(Ctx memory c, address account, uint256 market) private view returns (int256, int256, int256) {
        uint256 key = _positionKey(account, market, c.number);
        uint256 v;
        assembly ("memory-safe") {
            v := tload(key)
        }
        if (v != 0) {
            PositionCtx memory p = c.positions[v - 1];
            return (p.word.size(), p.size, 0);
        }
        uint256 w = _positions[account][market];
        int256 s = w.size();
        return (s, s, _pendingFunding(market, w));
    }
}
