/* libFuzzer target: the schedule-file parser, reached through kvmbox_sched_create (public API)
 * with the script policy and the input as the schedule text. */
#include <errno.h>
#include <string.h>
#include "kvmbox/sched.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvmbox_sched_config cfg = { .policy = KVMBOX_SCHED_SCRIPT };
	struct kvmbox_sched *s = NULL;
	struct kvmbox_error err;
	char *text = malloc(size + 1);
	int ret;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0; /* the schedule is a C string: a NUL inside ends it, as a file's would not */
	cfg.script = text;
	ret = kvmbox_sched_create(&s, &cfg, &err);
	FUZZ_REQUIRE(ret == 0 ? s != NULL : (ret == -EINVAL || ret == -ENOMEM) && err.msg[0]);
	kvmbox_sched_destroy(s);
	free(text);
	return 0;
}
