/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wx-probe.c — tests/systemd/020-sandbox.sh runs it as a step of droverd (inside the
 * service's sandbox) and as root outside it: is memory that is both writable and
 * executable refused (MemoryDenyWriteExecute=)? Prints one line per way of asking
 * ("mmap-wx refused|allowed", "mprotect-x refused|allowed"); exit 0 if both were
 * refused, 1 otherwise. Not part of drover.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
        size_t len = 4096;
        int allowed = 0;
        void *p;

        p = mmap(NULL, len, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                printf("mmap-wx refused (%s)\n", strerror(errno));
        else {
                printf("mmap-wx allowed\n");
                allowed++;
                (void) munmap(p, len);
        }

        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
                printf("mmap-w failed (%s)\n", strerror(errno));
                return 2;
        }
        memset(p, 0xc3, len); /* written first, then asked to be executable */
        if (mprotect(p, len, PROT_READ | PROT_EXEC) < 0)
                printf("mprotect-x refused (%s)\n", strerror(errno));
        else {
                printf("mprotect-x allowed\n");
                allowed++;
        }
        (void) munmap(p, len);
        return allowed ? 1 : 0;
}
