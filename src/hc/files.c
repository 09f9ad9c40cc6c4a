/* Sandboxed host files for guests (--share DIR). */
#include "../vm.h"
#include "hc.h"

int hc_files_register(struct hc_table *t)
{
	(void)t;
	return 0;
}

void hc_files_release(struct kvmbox_vm *vm)
{
	(void)vm;
}
