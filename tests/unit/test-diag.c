/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-diag.c — diagnostics: recording, sorting, printing with source and caret, suggestions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/diag.h"

static char *print_to_string(DiagList *l)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        diag_print(l, f);
        fclose(f);
        return buf;
}

static void test_count(void **state)
{
        DiagList l;

        diag_list_init(&l);
        assert_false(diag_has_errors(&l));
        diag_add(&l, DIAG_WARNING, "a.yaml", 1, 1, "just a warning");
        diag_add(&l, DIAG_NOTE, "a.yaml", 1, 1, "a note");
        assert_false(diag_has_errors(&l));
        assert_int_equal(diag_count_errors(&l), 0);
        diag_error(&l, "a.yaml", 2, 3, "bad %s %d", "thing", 42);
        assert_true(diag_has_errors(&l));
        assert_int_equal(diag_count_errors(&l), 1);
        assert_int_equal(l.n_items, 3);
        assert_string_equal(l.items[2].message, "bad thing 42");
        assert_int_equal(l.items[2].line, 2);
        assert_int_equal(l.items[2].col, 3);
        diag_list_done(&l);
        assert_int_equal(l.n_items, 0);
        diag_list_done(&l); /* twice is fine */
}

static void test_print_caret(void **state)
{
        DiagList l;
        const char *src = "top:\n  key: value\n  other: x\n";
        char *out;

        diag_list_init(&l);
        diag_list_add_source(&l, "f.yaml", src, strlen(src));
        diag_error(&l, "f.yaml", 2, 8, "unknown thing");
        out = print_to_string(&l);
        assert_string_equal(out, "f.yaml:2:8: error: unknown thing\n"
                                 "    key: value\n"
                                 "         ^\n");
        free(out);
        diag_list_done(&l);
}

static void test_print_tabs_and_utf8(void **state)
{
        DiagList l;
        const char *src = "a:\n\tb: 1\n\xc3\xa9t\xc3\xa9: x\n";
        char *out;

        diag_list_init(&l);
        diag_list_add_source(&l, "t.yaml", src, strlen(src));
        diag_error(&l, "t.yaml", 2, 1, "tab character not allowed, use spaces");
        diag_add(&l, DIAG_WARNING, "t.yaml", 3, 4, "after accents");
        out = print_to_string(&l);
        /* The tab is echoed as one space; the caret under "é" counts characters, not bytes. */
        assert_string_equal(out, "t.yaml:2:1: error: tab character not allowed, use spaces\n"
                                 "   b: 1\n"
                                 "  ^\n"
                                 "t.yaml:3:4: warning: after accents\n"
                                 "  \xc3\xa9t\xc3\xa9: x\n"
                                 "     ^\n");
        free(out);
        diag_list_done(&l);
}

static void test_print_whole_file_and_no_source(void **state)
{
        DiagList l;
        char *out;

        diag_list_init(&l);
        diag_error(&l, "big.yaml", 0, 5, "file is too large");
        diag_add(&l, DIAG_NOTE, "other.yaml", 3, 2, "no source registered");
        out = print_to_string(&l);
        assert_string_equal(out, "big.yaml: error: file is too large\n"
                                 "other.yaml:3:2: note: no source registered\n");
        free(out);
        diag_list_done(&l);
}

static void test_print_line_past_end(void **state)
{
        DiagList l;
        const char *src = "a: 1\r\nb: 2";
        char *out;

        diag_list_init(&l);
        diag_list_add_source(&l, "c.yaml", src, strlen(src));
        diag_error(&l, "c.yaml", 9, 1, "beyond the file");
        diag_error(&l, "c.yaml", 2, 7, "past end of line");
        out = print_to_string(&l);
        assert_string_equal(out, "c.yaml:2:7: error: past end of line\n"
                                 "  b: 2\n"
                                 "        ^\n"
                                 "c.yaml:9:1: error: beyond the file\n");
        free(out);
        diag_list_done(&l);
}

static void test_sort_stable(void **state)
{
        DiagList l;
        char *out;

        diag_list_init(&l);
        diag_error(&l, "b.yaml", 1, 1, "b1");
        diag_error(&l, "a.yaml", 5, 2, "a52-first");
        diag_error(&l, "a.yaml", 5, 1, "a51");
        diag_error(&l, "a.yaml", 5, 2, "a52-second");
        diag_error(&l, "a.yaml", 2, 9, "a29");
        out = print_to_string(&l);
        assert_string_equal(out, "a.yaml:2:9: error: a29\n"
                                 "a.yaml:5:1: error: a51\n"
                                 "a.yaml:5:2: error: a52-first\n"
                                 "a.yaml:5:2: error: a52-second\n"
                                 "b.yaml:1:1: error: b1\n");
        /* the list itself is left in printed order */
        assert_string_equal(l.items[0].message, "a29");
        assert_string_equal(l.items[4].message, "b1");
        free(out);
        diag_list_done(&l);
}

static void test_max_errors(void **state)
{
        DiagList l;
        char *out;

        diag_list_init(&l);
        l.max_errors = 2;
        for (int i = 1; i <= 5; i++)
                diag_error(&l, "m.yaml", (unsigned) i, 1, "error %d", i);
        diag_add(&l, DIAG_WARNING, "m.yaml", 9, 1, "warnings are always kept");
        assert_int_equal(l.n_items, 3);
        assert_int_equal(l.n_dropped, 3);
        assert_int_equal(diag_count_errors(&l), 5);
        out = print_to_string(&l);
        assert_non_null(strstr(out, "m.yaml:1:1: error: error 1\n"));
        assert_non_null(strstr(out, "m.yaml:2:1: error: error 2\n"));
        assert_null(strstr(out, "error 3"));
        assert_non_null(strstr(out, "(3 more errors not shown)\n"));
        free(out);
        diag_list_done(&l);
}

static void test_source_replaced(void **state)
{
        DiagList l;
        char *out;

        diag_list_init(&l);
        diag_list_add_source(&l, "s.yaml", "old line\n", 9);
        diag_list_add_source(&l, "s.yaml", "new line\n", 9);
        assert_int_equal(l.n_sources, 1);
        diag_error(&l, "s.yaml", 1, 1, "x");
        out = print_to_string(&l);
        assert_non_null(strstr(out, "  new line\n"));
        free(out);
        diag_list_done(&l);
}

static void test_distance(void **state)
{
        char long_word[80];

        assert_int_equal(string_distance("", ""), 0);
        assert_int_equal(string_distance("abc", ""), 3);
        assert_int_equal(string_distance("kitten", "sitting"), 3);
        assert_int_equal(string_distance("adress", "address"), 1);
        assert_int_equal(string_distance("same", "same"), 0);
        memset(long_word, 'x', sizeof(long_word) - 1);
        long_word[sizeof(long_word) - 1] = '\0';
        assert_true(string_distance(long_word, "x") == SIZE_MAX);
}

static void test_nearest(void **state)
{
        const char *const keys[] = { "address", "port", "user", "known_hosts", "connect_timeout" };

        assert_string_equal(string_nearest("adress", keys, ELEMENTSOF(keys)), "address");
        assert_string_equal(string_nearest("usr", keys, ELEMENTSOF(keys)), "user");
        assert_string_equal(string_nearest("knownhosts", keys, ELEMENTSOF(keys)), "known_hosts");
        assert_string_equal(string_nearest("connect-timeot", keys, ELEMENTSOF(keys)), "connect_timeout");
        assert_null(string_nearest("completely", keys, ELEMENTSOF(keys)));
        assert_null(string_nearest("zzzzzz", keys, ELEMENTSOF(keys)));
        assert_null(string_nearest("x", keys, 0));
}

static void test_utf8(void **state)
{
        assert_int_equal(utf8_char_length("a", 1), 1);
        assert_int_equal(utf8_char_length("\xc3\xa9", 2), 2);
        assert_int_equal(utf8_char_length("\xe2\x82\xac", 3), 3);
        assert_int_equal(utf8_char_length("\xf0\x9f\x98\x80", 4), 4);
        assert_int_equal(utf8_char_length("\xc3", 1), -EILSEQ);         /* truncated */
        assert_int_equal(utf8_char_length("\xc0\xaf", 2), -EILSEQ);     /* overlong */
        assert_int_equal(utf8_char_length("\xe0\x80\xaf", 3), -EILSEQ); /* overlong */
        assert_int_equal(utf8_char_length("\xed\xa0\x80", 3), -EILSEQ); /* surrogate */
        assert_int_equal(utf8_char_length("\xf4\x90\x80\x80", 4), -EILSEQ); /* > U+10FFFF */
        assert_int_equal(utf8_char_length("\x80", 1), -EILSEQ);
        assert_int_equal(utf8_char_length("\xff", 1), -EILSEQ);
        assert_int_equal(utf8_char_length("", 0), -EILSEQ);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_count),
                cmocka_unit_test(test_print_caret),
                cmocka_unit_test(test_print_tabs_and_utf8),
                cmocka_unit_test(test_print_whole_file_and_no_source),
                cmocka_unit_test(test_print_line_past_end),
                cmocka_unit_test(test_sort_stable),
                cmocka_unit_test(test_max_errors),
                cmocka_unit_test(test_source_replaced),
                cmocka_unit_test(test_distance),
                cmocka_unit_test(test_nearest),
                cmocka_unit_test(test_utf8),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
