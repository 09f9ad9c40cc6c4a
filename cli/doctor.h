/* `kvmbox doctor`: what this host's KVM can do, for people (a table), scripts (--json) and
 * the Makefile (--brief); and the one-line "no usable KVM" word `kvmbox run` gives. */
#ifndef KVMBOX_CLI_DOCTOR_H
#define KVMBOX_CLI_DOCTOR_H

#include <stdbool.h>
#include "status.h"

/* Exit statuses of `kvmbox doctor` (docs/doctor.md). DOCTOR_NO_KVM is the status `kvmbox run`
 * gives when it finds no usable KVM (cli/status.h), so scripts can treat both alike. */
enum doctor_status {
	DOCTOR_OK = 0,        /* KVM usable and all four modes run */
	DOCTOR_SOME_MODE = 1, /* KVM usable but some mode cannot run (or was not probed) */
	DOCTOR_USAGE = 2,     /* bad options */
	DOCTOR_NO_KVM = EXIT_NO_KVM, /* no usable KVM */
};

/* `kvmbox doctor [--json] [--brief]`: ARGV[1] is "doctor". The device is $KVMBOX_DEVICE when
 * set (default /dev/kvm). Prints on stdout; returns the exit status. */
int cli_doctor_main(int argc, char **argv);

/* Call when creating a VM failed. If this host has no usable KVM, print on stderr
 * "kvmbox: no usable KVM: CAUSE; run `kvmbox doctor`" and return true; otherwise print
 * nothing and return false (the caller reports its own error). */
bool doctor_say_no_kvm(void);

/* The help text of `kvmbox doctor`. */
extern const char cli_doctor_usage[];

#endif
