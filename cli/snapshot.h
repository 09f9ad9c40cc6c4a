/* `kvmbox snapshot FILE`: what a snapshot file holds, checked as a restore checks it. */
#ifndef KVMBOX_CLI_SNAPSHOT_H
#define KVMBOX_CLI_SNAPSHOT_H

/* ARGV[1] is "snapshot". Prints on stdout; returns EXIT_OK, or EXIT_USAGE after one line on
 * stderr (bad arguments, or not a valid snapshot). */
int cli_snapshot_main(int argc, char **argv);

extern const char cli_snapshot_usage[];

#endif
