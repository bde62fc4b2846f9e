/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * curl-endpoint.h — how an inventory Endpoint's TLS settings become curl options, in one
 * place for every HTTP client of drover (step executor, probes): verification on unless
 * the inventory says tls_verify: false, CA bundle, client certificate and key.
 */
#pragma once

#include <curl/curl.h>

#include "config/config.h"

/* ep may be NULL (an absolute URL outside the inventory): verification stays on.
 * Returns 0 or -EINVAL when curl refuses an option. curl copies the strings. */
int curl_apply_endpoint_tls(CURL *c, const Endpoint *ep);
