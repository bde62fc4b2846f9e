/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* curl-endpoint.c — see curl-endpoint.h. */
#include "config/curl-endpoint.h"

int curl_apply_endpoint_tls(CURL *c, const Endpoint *ep)
{
        bool verify = !ep || ep->tls_verify;

        if (curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L) != CURLE_OK)
                return -EINVAL;
        if (ep && ep->ca_file && curl_easy_setopt(c, CURLOPT_CAINFO, ep->ca_file) != CURLE_OK)
                return -EINVAL;
        if (ep && ep->client_cert && curl_easy_setopt(c, CURLOPT_SSLCERT, ep->client_cert) != CURLE_OK)
                return -EINVAL;
        if (ep && ep->client_key && curl_easy_setopt(c, CURLOPT_SSLKEY, ep->client_key) != CURLE_OK)
                return -EINVAL;
        return 0;
}
