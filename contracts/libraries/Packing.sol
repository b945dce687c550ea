// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

/// @title Packing
/// @notice Bit layouts of the hot storage words, so each is read and written with one SLOAD/SSTORE.
///
/// Account word: | openMarkets uint64 (bits 192..255) | minNonce uint64 (128..191) | flags (120..127) |
///               | cash int120 (0..119) |. Flag NONCE_BITS (bit 120): some nonce-bitmap word of the account
///               may hold a set bit. It is set by every write that sets a nonce bit and never cleared, so
///               while it is clear every nonce's bits are zero and settlement skips the nonce-word read.
/// Position word: | zero (192..255) | funding snapshot int128 (64..191) | size int64 (0..63) |. The snapshot
///               is the index of the position's side (Funding: longIndex for a long, shortIndex for a short)
///               when its funding was last settled; a flat position's word is zero.
/// Nonce word: two bits per nonce, 128 nonces per word: bit 2k = closed (filled or cancelled),
///             bit 2k+1 = partially filled (amount kept in the filled-amount map).
library Packing {
    uint256 private constant MASK64 = (1 << 64) - 1;
    uint256 private constant MASK120 = (1 << 120) - 1;
    uint256 private constant MASK128 = (1 << 128) - 1;
    /// @notice Account-word flag: the account's nonce bitmap may hold a set bit (see the layout above).
    uint256 internal constant NONCE_BITS = 1 << 120;

    function cash(uint256 word) internal pure returns (int256) {
        return int256(int120(uint120(word & MASK120)));
    }

    function hasNonceBits(uint256 word) internal pure returns (bool) {
        return word & NONCE_BITS != 0;
    }

    function minNonce(uint256 word) internal pure returns (uint64) {
        return uint64((word >> 128) & MASK64);
    }

    function openMarkets(uint256 word) internal pure returns (uint64) {
        return uint64(word >> 192);
    }

    function packAccount(
        int120 cash_,
        uint64 minNonce_,
        uint64 openMarkets_,
        bool nonceBits_
    ) internal pure returns (uint256) {
        return
            uint256(uint120(cash_)) |
            (nonceBits_ ? NONCE_BITS : 0) |
            (uint256(minNonce_) << 128) |
            (uint256(openMarkets_) << 192);
    }

    function withCash(uint256 word, int120 cash_) internal pure returns (uint256) {
        return (word & ~MASK120) | uint256(uint120(cash_));
    }

    function withMinNonce(uint256 word, uint64 minNonce_) internal pure returns (uint256) {
        return (word & ~(MASK64 << 128)) | (uint256(minNonce_) << 128);
    }

    function size(uint256 word) internal pure returns (int256) {
        return int256(int64(uint64(word & MASK64)));
    }

    function withSize(uint256 word, int64 size_) internal pure returns (uint256) {
        return (word & ~MASK64) | uint256(uint64(size_));
    }

    /// @notice The funding-index snapshot of a position word (Funding).
    function fundingSnapshot(uint256 word) internal pure returns (int256) {
        return int256(int128(uint128((word >> 64) & MASK128)));
    }

    function packPosition(int64 size_, int128 snapshot_) internal pure returns (uint256) {
        return uint256(uint64(size_)) | (uint256(uint128(snapshot_)) << 64);
    }

    uint256 internal constant CLOSED = 1;
    uint256 internal constant PARTIAL = 2;

    /// @notice Storage index of the nonce word and bit offset for `nonce`.
    function nonceSlot(uint64 nonce) internal pure returns (uint256 wordIndex, uint256 shift) {
        return (nonce >> 7, (uint256(nonce) & 127) << 1);
    }
}
