/* What the producer/consumer example guests agree on. */
#ifndef KVMBOX_EXAMPLE_PC_H
#define KVMBOX_EXAMPLE_PC_H

#define PC_CHAN 0
#define PC_COUNT 1000u

/* The array pair: ARR_COUNT arrays of ARR_LEN 32-bit values; element j of array k is
 * ARR_VALUE(k, j). */
#define ARR_CHAN 1
#define ARR_COUNT 50u
#define ARR_LEN 256u
#define ARR_VALUE(k, j) ((k) * 100000u + (j))

/* The bounded buffer: BB_ITEMS items through channel BB_CHAN (capacity 20: --chan 2=20). */
#define BB_CHAN 2
#define BB_ITEMS 100u

#endif
