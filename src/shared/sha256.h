/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sha256.h — FIPS 180-4 SHA-256, small and dependency-free. drover links no crypto
 * library; it needs a digest only to fingerprint the playbook a run executed (the
 * journal records it), not for any security decision. Pure: no I/O.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE    65 /* 64 hex digits + NUL */

typedef struct Sha256 {
        uint32_t state[8];
        uint64_t n_bytes;
        uint8_t buf[64];
        size_t buf_len;
} Sha256;

void sha256_init(Sha256 *s);
void sha256_update(Sha256 *s, const void *data, size_t n);
void sha256_finish(Sha256 *s, uint8_t out[static SHA256_DIGEST_SIZE]);

/* One-shot: lowercase hex digest of data into hex (65 bytes with NUL). Returns hex. */
char *sha256_hex(const void *data, size_t n, char hex[static SHA256_HEX_SIZE]);
