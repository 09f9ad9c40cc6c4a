/* The real-time signals kvmbox sends itself, named once: the code that uses them and the
 * sandbox's filter (src/sandbox/), which allows exactly these, read the same numbers. */
#ifndef KVMBOX_SIGNALS_H
#define KVMBOX_SIGNALS_H

#include <signal.h>

/* Ends KVM_RUN at a run's deadline (src/deadline.c). */
#define DEADLINE_SIGNAL (SIGRTMIN + 4)
/* Kicks the vCPU thread out of KVM_RUN for gdb (src/gdb/session.c). */
#define GDB_KICK_SIGNAL (SIGRTMIN + 5)

#endif
