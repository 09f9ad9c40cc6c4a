/* The library's short names for guest addresses. The public header names them kvmbox_gpa_t
 * and kvmbox_gva_t, as it prefixes every name it defines, so that a program including it
 * beside code of its own with a gpa_t (the KVM selftests have one) still compiles; inside
 * the library, which includes no such code, the short names read better. */
#ifndef KVMBOX_ADDR_H
#define KVMBOX_ADDR_H

#include "kvmbox/kvmbox.h"

typedef kvmbox_gpa_t gpa_t; /* guest-physical address */
typedef kvmbox_gva_t gva_t; /* guest-virtual (linear) address */

#endif
