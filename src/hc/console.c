/* Console and control hypercalls: ABI version, print32, printStr, exit, guest assertions. */
#include <stdio.h>
#include "../console.h"
#include "../mem.h"
#include "../util.h"
#include "../vm.h"
#include "hc.h"

static int32_t hc_abi_version(struct kvmbox_vm *vm, const struct hc_call *c)
{
	(void)vm;
	(void)c;
	return KVMBOX_ABI_VERSION;
}

/* The classic HC_print32bit: the value in decimal and exactly one newline. */
static int32_t hc_print32(struct kvmbox_vm *vm, const struct hc_call *c)
{
	char buf[24];
	size_t n = hc_fmt_u64(buf, (uint32_t)c->arg);

	buf[n++] = '\n';
	vm_console_write(vm, buf, n);
	return 0;
}

/* The whole string in this one exit, no newline added. */
static int32_t hc_printstr(struct kvmbox_vm *vm, const struct hc_call *c)
{
	char buf[KVMBOX_STR_MAX];
	int n = guest_read_str(vm, c->arg, buf, sizeof(buf));

	if (n < 0)
		return vm_bad_call(vm, -n, "printStr(0x%llx): %s", (unsigned long long)c->arg,
				   n == -KVMBOX_EFAULT ? "bad address" : "no NUL within 4096 bytes");
	vm_console_write(vm, buf, (size_t)n);
	return n;
}

static int32_t hc_exit(struct kvmbox_vm *vm, const struct hc_call *c)
{
	vm_request_stop(vm, KVMBOX_STOP_EXIT, (int32_t)c->arg, "the guest called exit(%d)",
			(int32_t)c->arg);
	return 0;
}

/* A guest-side assertion failed: carry its file:line and expression to the host. */
static int32_t hc_assert_fail(struct kvmbox_vm *vm, const struct hc_call *c)
{
	struct kvmbox_hc_assert a;
	char file[256] = "?", expr[256] = "?", shown_file[256], shown_expr[256];

	if (guest_read(vm, c->arg, &a, sizeof(a)) < 0) {
		vm_request_stop(vm, KVMBOX_STOP_ASSERT, 0,
				"guest assertion failed (unreadable report at 0x%llx)",
				(unsigned long long)c->arg);
		return -KVMBOX_EFAULT;
	}
	/* Unreadable or unterminated texts still produce a report, with what could be read. */
	if (guest_read_str(vm, a.file, file, sizeof(file)) < 0)
		snprintf(file, sizeof(file), "?");
	if (guest_read_str(vm, a.expr, expr, sizeof(expr)) < 0)
		snprintf(expr, sizeof(expr), "?");
	vm_request_stop(vm, KVMBOX_STOP_ASSERT, 0, "guest assertion failed at %s:%u: %s",
			text_printable(shown_file, sizeof(shown_file), file), a.line,
			text_printable(shown_expr, sizeof(shown_expr), expr));
	return 0;
}

static const struct hc_def console_calls[] = {
	{ KVMBOX_HC_ABI_VERSION, "abi_version", hc_abi_version },
	{ KVMBOX_HC_PRINT32, "print32", hc_print32 },
	{ KVMBOX_HC_PRINTSTR, "printstr", hc_printstr },
	{ KVMBOX_HC_EXIT, "exit", hc_exit },
	{ KVMBOX_HC_ASSERT_FAIL, "assert_fail", hc_assert_fail },
};

const struct vm_feature hc_console_feature = {
	.name = "console",
	.calls = console_calls,
	.ncalls = ARRAY_SIZE(console_calls),
};
