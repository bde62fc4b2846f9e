/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-sha256.c — FIPS 180-4 / NIST example vectors, and incremental updates. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "shared/sha256.h"

static void test_vectors(void **state)
{
        char hex[SHA256_HEX_SIZE];

        assert_string_equal(sha256_hex("", 0, hex),
                            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_string_equal(sha256_hex("abc", 3, hex),
                            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_string_equal(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex),
                            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        assert_string_equal(
                sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlm"
                           "nopqrsmnopqrstnopqrstu",
                           112, hex),
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a(void **state)
{
        uint8_t d[SHA256_DIGEST_SIZE];
        char block[1000];
        Sha256 s;
        static const uint8_t want[SHA256_DIGEST_SIZE] = {
                0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
                0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0,
        };

        memset(block, 'a', sizeof(block));
        sha256_init(&s);
        for (int i = 0; i < 1000; i++)
                sha256_update(&s, block, sizeof(block));
        sha256_finish(&s, d);
        assert_memory_equal(d, want, sizeof(want));
}

static void test_incremental(void **state)
{
        const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq and some more bytes to cross "
                          "the 64-byte block boundary twice over, at odd split points.";
        size_t n = strlen(msg);
        char want[SHA256_HEX_SIZE];

        sha256_hex(msg, n, want);
        for (size_t split = 0; split <= n; split += 7) {
                static const char digits[] = "0123456789abcdef";
                uint8_t d[SHA256_DIGEST_SIZE];
                char got[SHA256_HEX_SIZE];
                Sha256 s;

                sha256_init(&s);
                sha256_update(&s, msg, split);
                sha256_update(&s, msg + split, 1 <= n - split ? 1 : 0);
                sha256_update(&s, msg + split + (1 <= n - split ? 1 : 0), n - split - (1 <= n - split ? 1 : 0));
                sha256_finish(&s, d);
                for (unsigned i = 0; i < SHA256_DIGEST_SIZE; i++) {
                        got[2 * i] = digits[d[i] >> 4];
                        got[2 * i + 1] = digits[d[i] & 15];
                }
                got[64] = '\0';
                assert_string_equal(got, want);
        }
        /* 55, 56 and 64 bytes: the padding edge cases. */
        assert_string_equal(sha256_hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 55, want),
                            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
        assert_string_equal(sha256_hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 56, want),
                            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vectors),
                cmocka_unit_test(test_million_a),
                cmocka_unit_test(test_incremental),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
