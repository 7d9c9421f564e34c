// CSHA256.h — SHA-256 with the x86-64 SHA extensions (SHA-NI), for TrellisCrypto's `SHA256`.
//
// The same function as libsodium's `crypto_hash_sha256` (FIPS 180-4), computed with the CPU's SHA-256 instructions
// where the CPU has them: the state tree, transaction ids and Merkle roots hash millions of short messages, and
// libsodium's portable C compression function was a third of the ledger's instructions. Callers must check
// `trellis_sha256_accelerated()` once and use libsodium when it returns 0 (other CPUs and architectures).
#ifndef CSHA256_H
#define CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the SHA extensions (and SSSE3/SSE4.1) that `trellis_sha256` needs; 0 otherwise.
int trellis_sha256_accelerated(void);

/// SHA-256 of `length` bytes at `data` (may be NULL when `length` is 0) into `out` (32 bytes).
/// Only valid when `trellis_sha256_accelerated()` returned 1.
void trellis_sha256(const uint8_t *data, size_t length, uint8_t *out);

/// SHA-256 of `length` bytes at `dataA` into `outA` and of `length` bytes at `dataB` into `outB` (32 bytes each):
/// the same digests as two `trellis_sha256` calls, computed together (the two messages' rounds interleaved).
/// Only valid when `trellis_sha256_accelerated()` returned 1.
void trellis_sha256_pair(const uint8_t *dataA, const uint8_t *dataB, size_t length, uint8_t *outA, uint8_t *outB);

/// Asks the CPU to bring the cache line at `p` into its caches for a read (a hint: it changes no result).
static inline void trellis_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

#endif
