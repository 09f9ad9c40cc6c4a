/* kvmbox_layout_get: where the host-made structures (GDT, TSS, page tables) and the initial
 * stack live in guest memory for each CPU mode. docs/memory.md draws the same picture. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kvmbox/kvmbox.h"
#include "x86/layout.h"

static void set_err(struct kvmbox_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct kvmbox_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

int kvmbox_layout_get(enum kvmbox_mode mode, uint64_t mem_size, struct kvmbox_layout *layout,
		      struct kvmbox_error *err)
{
	if (!layout) {
		set_err(err, "layout: no output structure");
		return -EINVAL;
	}
	if (mem_size % MEM_SIZE_ALIGN != 0 || mem_size < KVMBOX_MEM_MIN ||
	    mem_size > KVMBOX_MEM_MAX) {
		set_err(err,
			"memory size %" PRIu64 " bytes: must be a multiple of 4 KiB between "
			"%llu KiB and %llu GiB",
			mem_size, KVMBOX_MEM_MIN >> 10, KVMBOX_MEM_MAX >> 30);
		return -EINVAL;
	}

	memset(layout, 0, sizeof(*layout));
	layout->mem_size = mem_size;
	switch (mode) {
	case KVMBOX_MODE_REAL:
		/* No descriptor tables: real mode addresses memory as segment * 16 + offset
		 * (SDM Vol 3B "Address Translation in Real-Address Mode"), and KVM supplies the segment caches itself. */
		layout->sys_base = mem_size;
		layout->gdt = 0;
		layout->pt_root = 0;
		layout->stack_top = REAL_STACK_TOP;
		return 0;
	case KVMBOX_MODE_PROTECTED:
	case KVMBOX_MODE_PAGED32:
	case KVMBOX_MODE_LONG:
		layout->sys_base = mem_size - SYS_AREA_SIZE;
		layout->gdt = layout->sys_base + SYS_GDT_OFF;
		layout->pt_root = mode == KVMBOX_MODE_PROTECTED ? 0 : layout->sys_base + SYS_PT_ROOT_OFF;
		layout->stack_top = layout->sys_base;
		return 0;
	case KVMBOX_MODE_AUTO:
		break;
	}
	set_err(err, "layout: mode %d is not a CPU mode", (int)mode);
	return -EINVAL;
}
