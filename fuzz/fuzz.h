/* Shared by the libFuzzer targets in fuzz/ (docs/security.md, "Fuzzing"): the entry point
 * libFuzzer calls, and the one way a target reports a broken contract. */
#ifndef KVMBOX_FUZZ_H
#define KVMBOX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* libFuzzer calls this once per input; it must return 0. Declared here for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A parser accepted what its contract forbids: abort, so libFuzzer saves the input as a crash. */
#define FUZZ_REQUIRE(cond)                                                                         \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: contract broken: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
