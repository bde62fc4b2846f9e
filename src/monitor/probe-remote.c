/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * probe-remote.c — checks run from a remote vantage point: an http, vendor-metric or tcp
 * check executed over SSH on the vantage host, so that drover can tell "the target is
 * down" from "drover lost its own link to the target".
 *
 * How a check runs (the rules are in prober.h, "Remote vantage points"):
 *   - http / vendor-metric: `curl -K -` on the vantage host; the URL, the headers (they
 *     may hold secrets) and the TLS options are a curl config written to its stdin, so
 *     they never appear in the remote argv (ps) or in any command line we build. The
 *     status line comes back on stderr after a marker, the body on stdout (capped), and
 *     probe_http_judge() judges it exactly like a local answer.
 *   - tcp: `timeout T bash -c '... exec 3<>/dev/tcp/$h/$p ...'` with host and port on stdin.
 *   - the remote command is a fixed string per probe: nothing from the configuration is
 *     interpolated into it but numbers we format ourselves, so there is nothing to quote.
 *   - every failure to run the check on the vantage host (SSH connect, host key, auth,
 *     deadline of the SSH leg, a missing curl/bash/timeout, a killed command) is
 *     PROBE_UNAVAILABLE, never fail/timeout: the detector lets the vantage abstain.
 *
 * Lanes: the SSH runner runs one request at a time per Host (one libssh2 session cannot be
 * used from two threads). A vantage host therefore gets up to PROBER_VANTAGE_LANES
 * copies of its Host ("lanes"), each its own kept-open session; a check takes an idle
 * lane, and a new lane (session) is opened only when every open one is busy. Without
 * lanes, one hung target (curl waiting its full timeout) would hold back every other
 * check from that vantage point until they missed their deadlines.
 *
 * Owns: RemoteVantage and RemoteLane objects, the remote command and its stdin per probe,
 * turning a ProberSshResult into a ProbeResult. Does not own: the SSH runner and its
 * event source (prober.c), judging an HTTP answer (probe-http.c), scheduling. Called by
 * prober.c. Never logs; details name hosts and errors, never headers or bodies.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/prober-internal.h"

#define RESULT_MARKER "drover-probe-result "
/* stdout/stderr kept when no body is wanted: enough for error messages and the marker. */
#define REMOTE_SMALL_CAP 4096U
/* curl's stdin config and the tcp check's stdin are built once; refuse absurd sizes. */
#define REMOTE_INPUT_MAX (64U * 1024U)

struct RemoteLane {
        Host host;          /* a copy of the vantage host: a separate session in the runner */
        unsigned in_flight; /* our checks submitted on this lane and not finished */
};

struct RemoteVantage {
        const Host *host; /* as given in the ProbeSpec (borrowed) */
        RemoteLane *lanes[PROBER_VANTAGE_LANES];
        size_t n_lanes;
};

/* ---- vantage hosts and lanes ----------------------------------------------------- */

static RemoteVantage *remote_vantage_get(Prober *p, const Host *host)
{
        RemoteVantage *v;

        for (size_t i = 0; i < p->n_remotes; i++)
                if (p->remotes[i]->host == host)
                        return p->remotes[i];
        v = xcalloc(1, sizeof(*v));
        v->host = host;
        p->remotes = xrealloc(p->remotes, (p->n_remotes + 1) * sizeof(*p->remotes));
        p->remotes[p->n_remotes++] = v;
        return v;
}

static RemoteLane *remote_lane_pick(RemoteVantage *v)
{
        RemoteLane *best = NULL;

        for (size_t i = 0; i < v->n_lanes; i++) {
                if (v->lanes[i]->in_flight == 0)
                        return v->lanes[i];
                if (!best || v->lanes[i]->in_flight < best->in_flight)
                        best = v->lanes[i];
        }
        if (v->n_lanes < PROBER_VANTAGE_LANES) {
                RemoteLane *l = xcalloc(1, sizeof(*l));
                l->host = *v->host; /* strings stay borrowed from the caller's Host */
                v->lanes[v->n_lanes++] = l;
                return l;
        }
        return best; /* every lane busy: queue behind the least loaded one */
}

void prober_remote_done(Prober *p)
{
        /* Called after the SSH runner is gone: no session refers to a lane any more. */
        for (size_t i = 0; i < p->n_remotes; i++) {
                for (size_t k = 0; k < p->remotes[i]->n_lanes; k++)
                        free(p->remotes[i]->lanes[k]);
                free(p->remotes[i]);
        }
        free(p->remotes);
        p->remotes = NULL;
        p->n_remotes = 0;
}

/* ---- building the remote command and its stdin ------------------------------------- */

/* A double-quoted value of a curl config file: backslash and quote escaped; control
 * characters refused (a CR/LF in a header would be header injection anyway). */
static int curl_config_put(StrBuf *b, const char *key, const char *value)
{
        strbuf_puts(b, key);
        if (!value) {
                strbuf_putc(b, '\n');
                return 0;
        }
        strbuf_puts(b, " = \"");
        for (const unsigned char *c = (const unsigned char *) value; *c; c++) {
                if (*c < 0x20 || *c == 0x7f)
                        return -EINVAL;
                if (*c == '"' || *c == '\\')
                        strbuf_putc(b, '\\');
                strbuf_putc(b, (char) *c);
        }
        strbuf_puts(b, "\"\n");
        return 0;
}

static void input_set(Probe *pr, StrBuf *b)
{
        pr->remote_input_len = b->len;
        pr->remote_input = strbuf_steal(b);
}

static void secret_free(char *s, size_t n)
{
        if (s)
                explicit_bzero(s, n);
        free(s);
}

static int remote_http_build(Probe *pr, const ProbeSpec *s)
{
        const Endpoint *ep = s->endpoint;
        StrBuf in = STRBUF_INIT;
        int r;

        if (!s->url || (strncmp(s->url, "http://", 7) != 0 && strncmp(s->url, "https://", 8) != 0))
                return -EINVAL;

        r = curl_config_put(&in, "url", s->url);
        for (char *const *h = s->headers; r >= 0 && h && *h; h++)
                r = curl_config_put(&in, "header", *h);
        if (r >= 0 && ep && !ep->tls_verify)
                r = curl_config_put(&in, "insecure", NULL);
        if (r >= 0 && ep && ep->ca_file)
                r = curl_config_put(&in, "cacert", ep->ca_file);
        if (r >= 0 && ep && ep->client_cert)
                r = curl_config_put(&in, "cert", ep->client_cert);
        if (r >= 0 && ep && ep->client_key)
                r = curl_config_put(&in, "key", ep->client_key);
        if (r >= 0 && in.len > REMOTE_INPUT_MAX)
                r = -EINVAL;
        if (r < 0) {
                secret_free(in.data, in.cap);
                return r;
        }
        input_set(pr, &in);

        pr->want_body = pr->re || pr->kind == PROBE_KIND_VENDOR_METRIC;
        /* -q: no ~/.curlrc. The status line goes to stderr (%{stderr}, curl >= 7.63) so
         * that stdout is the body alone. Redirects are not followed (no -L). */
        pr->remote_command = xasprintf(
                "curl -q -sS --proto =http,https --max-time %.3f -A drover-probe/%s -o %s "
                "-w '%%{stderr}\\n" RESULT_MARKER "%%{http_code} %%{time_total} %%{redirect_url}\\n' -K -",
                (double) pr->timeout / USEC_PER_SEC, DROVER_VERSION, pr->want_body ? "-" : "/dev/null");
        return 0;
}

static int remote_tcp_build(Probe *pr, const ProbeSpec *s)
{
        StrBuf in = STRBUF_INIT;

        if (!s->address || !*s->address || s->port == 0)
                return -EINVAL;
        /* One line "HOST PORT" for `read -r h p`: no whitespace or control characters. */
        for (const unsigned char *c = (const unsigned char *) s->address; *c; c++)
                if (*c <= 0x20 || *c == 0x7f || *c == '/')
                        return -EINVAL;
        pr->address = xstrdup(s->address);
        pr->port = s->port;
        strbuf_printf(&in, "%s %u\n", s->address, (unsigned) s->port);
        input_set(pr, &in);

        /* timeout(1) bounds the connect; -k: KILL one second later if TERM is ignored.
         * $EPOCHREALTIME (bash >= 5) times the connect on the vantage host itself. */
        pr->remote_command = xasprintf("timeout -k 1 %.3f bash -c 'read -r h p || exit 3; s=$EPOCHREALTIME; "
                                       "exec 3<>\"/dev/tcp/$h/$p\" || exit 1; echo \"" RESULT_MARKER
                                       "$s $EPOCHREALTIME\"'",
                                       (double) pr->timeout / USEC_PER_SEC);
        return 0;
}

int probe_remote_setup(Probe *pr, const ProbeSpec *s)
{
        int r;

        switch (s->kind) {
        case PROBE_KIND_HTTP:
        case PROBE_KIND_VENDOR_METRIC:
                r = remote_http_build(pr, s);
                break;
        case PROBE_KIND_TCP:
                r = remote_tcp_build(pr, s);
                break;
        default:
                r = -EOPNOTSUPP;
        }
        if (r < 0)
                return r;
        r = prober_ensure_ssh(pr->prober);
        if (r < 0)
                return r;
        pr->vantage = xstrdup(s->vantage);
        pr->remote = remote_vantage_get(pr->prober, s->vantage_host);
        return 0;
}

void probe_remote_free(Probe *pr)
{
        secret_free(pr->remote_input, pr->remote_input_len);
        pr->remote_input = NULL;
        free(pr->remote_command);
        pr->remote_command = NULL;
        free(pr->vantage);
        pr->vantage = NULL;
}

/* ---- running a check ------------------------------------------------------------- */

static void deliver_unavailable(Probe *pr, usec_t latency, const char *msg)
{
        char detail[256];

        snprintf(detail, sizeof(detail), "vantage %.40s: %.200s", pr->vantage, msg);
        probe_deliver(pr, PROBE_UNAVAILABLE, latency, NAN, false, detail);
}

void probe_remote_start(Probe *pr)
{
        Prober *p = pr->prober;
        RemoteLane *lane = remote_lane_pick(pr->remote);
        ProberSshRequest a = {
                .tag = pr->index,
                .deadline = pr->check_started + pr->timeout + PROBER_VANTAGE_GRACE,
                .output_cap = pr->want_body ? PROBER_BODY_MAX : REMOTE_SMALL_CAP,
                .host = &lane->host,
                .command = pr->remote_command,
                .input = pr->remote_input,
                .input_len = pr->remote_input_len,
        };
        char msg[96];
        int r;

        lane->in_flight++;
        pr->lane = lane;
        r = p->ssh_ops->submit(p->ssh, &a);
        if (r < 0) {
                lane->in_flight--;
                pr->lane = NULL;
                snprintf(msg, sizeof(msg), "cannot start: %s", strerror(-r));
                deliver_unavailable(pr, 0, msg);
        }
}

/* The text after the last RESULT_MARKER at the start of a line of s, or NULL. */
static const char *find_result_line(const char *s)
{
        const char *found = NULL;

        for (const char *q = s; q && (q = strstr(q, RESULT_MARKER)); q++)
                if (q == s || q[-1] == '\n')
                        found = q + strlen(RESULT_MARKER);
        return found;
}

/* A copy of the first line of s that contains `needle` (from the needle on), or of
 * its last non-empty line; "" when s is empty. Capped: it becomes a detail. */
static void pick_line(char *buf, size_t size, const char *s, const char *needle)
{
        const char *start = NULL, *end;

        buf[0] = '\0';
        if (!s)
                return;
        if (needle)
                start = strstr(s, needle);
        if (!start)
                for (const char *q = s; *q;) {
                        size_t n = strcspn(q, "\n");
                        if (n > 0 && strncmp(q, RESULT_MARKER, strlen(RESULT_MARKER)) != 0)
                                start = q;
                        q += n;
                        if (*q == '\n')
                                q++;
                }
        if (!start)
                return;
        end = start + strcspn(start, "\r\n");
        snprintf(buf, size, "%.*s", (int) MIN((size_t) (end - start), size - 1), start);
}

/* A decimal number of seconds as curl or $EPOCHREALTIME print it ('.' or ',' as the
 * decimal separator, whatever the vantage host's locale). */
static bool parse_seconds(const char *s, const char **ret_end, double *ret)
{
        char buf[64], *end;
        size_t n = strcspn(s, " \n");
        double v;

        if (n == 0 || n >= sizeof(buf))
                return false;
        memcpy(buf, s, n);
        buf[n] = '\0';
        for (char *c = buf; *c; c++)
                if (*c == ',')
                        *c = '.';
        errno = 0;
        v = strtod(buf, &end);
        if (errno != 0 || *end != '\0' || !isfinite(v) || v < 0)
                return false;
        *ret = v;
        if (ret_end)
                *ret_end = s + n;
        return true;
}

static void remote_http_finish(Probe *pr, const ProberSshResult *a, usec_t leg)
{
        char line[200], b[FORMAT_DURATION_MAX], location[200] = "";
        const char *meta, *q;
        double secs = 0;
        char *end;
        long status;

        switch (a->exit_status) {
        case 0:
                break;
        case 28: /* CURLE_OPERATION_TIMEDOUT */
                snprintf(line, sizeof(line), "no answer within %s", format_duration(b, pr->timeout));
                probe_deliver(pr, PROBE_TIMEOUT, pr->timeout, NAN, false, line);
                return;
        case 126:
        case 127:
                deliver_unavailable(pr, leg, "curl cannot be run on the vantage host");
                return;
        case 2: /* CURLE_FAILED_INIT */
        case 4: /* CURLE_NOT_BUILT_IN */
                pick_line(line, sizeof(line), a->err, "curl: ");
                deliver_unavailable(pr, leg,
                                    line[0] ? line : "curl on the vantage host cannot run the check");
                return;
        default:
                /* "curl: (7) Failed to connect to … Connection refused": the target's answer. */
                pick_line(line, sizeof(line), a->err, "curl: ");
                if (!line[0])
                        snprintf(line, sizeof(line), "curl exit status %d", a->exit_status);
                probe_deliver(pr, PROBE_FAIL, leg, NAN, false, line);
                return;
        }

        meta = find_result_line(strempty(a->err));
        if (!meta) {
                deliver_unavailable(pr, leg, "curl printed no result line");
                return;
        }
        errno = 0;
        status = strtol(meta, &end, 10);
        if (errno != 0 || end == meta || *end != ' ' || status < 0 || status > 999 ||
            !parse_seconds(end + 1, &q, &secs)) {
                deliver_unavailable(pr, leg, "curl's result line is not understood");
                return;
        }
        if (*q == ' ')
                snprintf(location, sizeof(location), "%.*s",
                         (int) MIN(strcspn(q + 1, "\r\n"), sizeof(location) - 1), q + 1);
        probe_http_judge(pr, status, (usec_t) (secs * USEC_PER_SEC), strempty(a->out),
                         a->out ? a->out_len : 0, a->out_truncated, location[0] ? location : NULL);
}

static void remote_tcp_finish(Probe *pr, const ProberSshResult *a, usec_t leg)
{
        char line[200], detail[224], b[FORMAT_DURATION_MAX];
        const char *meta;
        double t0, t1;
        usec_t latency = leg;

        switch (a->exit_status) {
        case 0:
                break;
        case 124: /* timeout(1): TERM sent */
        case 137: /* timeout(1) -k: KILL sent */
                snprintf(detail, sizeof(detail), "connect: no answer within %s",
                         format_duration(b, pr->timeout));
                probe_deliver(pr, PROBE_TIMEOUT, pr->timeout, NAN, false, detail);
                return;
        case 1:
                /* "bash: line 1: connect: Connection refused": the target's answer. */
                pick_line(line, sizeof(line), a->err, "connect: ");
                if (!line[0])
                        pick_line(line, sizeof(line), a->err, NULL);
                probe_deliver(pr, PROBE_FAIL, leg, NAN, false, line[0] ? line : "connect failed");
                return;
        default:
                /* 125-127: timeout or bash missing; 3: no input; others: the shell, not the target. */
                snprintf(line, sizeof(line), "the tcp check cannot run on the vantage host (exit status %d)",
                         a->exit_status);
                deliver_unavailable(pr, leg, line);
                return;
        }

        meta = find_result_line(strempty(a->out));
        if (meta && parse_seconds(meta, &meta, &t0) && *meta == ' ' && parse_seconds(meta + 1, NULL, &t1) &&
            t1 >= t0)
                latency = (usec_t) ((t1 - t0) * USEC_PER_SEC);
        /* else: a bash without $EPOCHREALTIME; the SSH leg's duration is an upper bound. */
        snprintf(detail, sizeof(detail), "connected in %s from %.40s", format_duration(b, latency),
                 pr->vantage);
        probe_deliver(pr, PROBE_OK, latency, NAN, false, detail);
}

void probe_remote_finish(Probe *pr, const ProberSshResult *a)
{
        char b[FORMAT_DURATION_MAX], msg[128];
        usec_t leg = a->finished > a->started ? a->finished - a->started : 0;

        if (pr->lane) {
                pr->lane->in_flight--;
                pr->lane = NULL;
        }

        switch (a->status) {
        case PROBER_SSH_DONE:
                break;
        case PROBER_SSH_TIMEOUT:
                snprintf(msg, sizeof(msg), "no answer over SSH within %s",
                         format_duration(b, pr->timeout + PROBER_VANTAGE_GRACE));
                deliver_unavailable(pr, leg, msg);
                return;
        default:
                /* The runner's messages name hosts and errors, never commands or input. */
                deliver_unavailable(pr, leg, strempty(a->error));
                return;
        }
        if (a->exit_signal) {
                snprintf(msg, sizeof(msg), "the check was killed by SIG%.20s on the vantage host",
                         a->exit_signal);
                deliver_unavailable(pr, leg, msg);
                return;
        }

        if (pr->kind == PROBE_KIND_TCP)
                remote_tcp_finish(pr, a, leg);
        else
                remote_http_finish(pr, a, leg);
}
