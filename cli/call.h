/* `kvmbox call`: call a function a guest exports (cli/call.c). */
#ifndef KVMBOX_CLI_CALL_H
#define KVMBOX_CLI_CALL_H

/* `kvmbox call ...` with ARGV as main got it (argv[1] is "call"). Returns the exit status. */
int cli_call_main(int argc, char **argv);

/* The help text of `kvmbox call`. */
extern const char cli_call_usage[];

#endif
