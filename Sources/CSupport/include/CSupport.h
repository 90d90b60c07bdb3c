#ifndef TOKENGAP_CSUPPORT_H
#define TOKENGAP_CSUPPORT_H

#include <stddef.h>

/// memmem(3): the first occurrence of needle in haystack, or NULL.
/// glibc's is vectorized; Swift's Glibc module hides it behind _GNU_SOURCE.
const void *tokengap_memmem(const void *haystack, size_t haystack_len,
                            const void *needle, size_t needle_len);

#endif
