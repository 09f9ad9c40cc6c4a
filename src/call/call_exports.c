/* The functions a VM's image exports (KVMBOX_EXPORT, the kvmbox export notes that
 * src/image/image.c checks), kept at load for kvmbox_vm_call, with where the image lies (a
 * call's area and return stub must not land on it). A feature with a load hook and no
 * hypercall: the names outlive the caller's image buffer. A snapshot keeps them, so a VM
 * restored from a file in another process is called by name as its saver was. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "kvmbox/call.h"
#include "snap/snap_buf.h"
#include "base/util.h"
#include "call/call_int.h"
#include "image/image.h"
#include "vm/vm.h"

struct export_entry {
	gva_t addr;
	char name[KVMBOX_EXPORT_NAME_MAX + 1];
};

struct exports_state {
	bool loaded;   /* an image was loaded (a VM made from a snapshot file has none) */
	bool no_mem;   /* the table could not be kept: calls by name fail with ENOMEM */
	unsigned n;
	struct export_entry *e;
	unsigned nseg;
	struct kvmbox_segment seg[KVMBOX_IMAGE_MAX_SEGMENTS];
};

const struct vm_feature call_exports_feature;

static int exports_init(struct kvmbox_vm *vm, const struct kvmbox_vm_config *cfg, void **state,
			struct kvmbox_error *err)
{
	(void)vm;
	(void)cfg;
	*state = calloc(1, sizeof(struct exports_state));
	return *state ? 0 : set_error(err, ENOMEM, "out of memory");
}

static void exports_load(struct kvmbox_vm *vm, void *state, const struct kvmbox_image *img)
{
	struct exports_state *st = state;

	(void)vm;
	free(st->e);
	memset(st, 0, sizeof(*st));
	st->loaded = true;
	st->nseg = img->nsegments;
	memcpy(st->seg, img->segments, sizeof(st->seg));
	if (!img->nexports)
		return;
	st->e = calloc(img->nexports, sizeof(*st->e));
	if (!st->e) {
		st->no_mem = true;
		return;
	}
	for (unsigned i = 0; i < img->nexports; i++) {
		struct kvmbox_export x;

		if (kvmbox_image_export(img, i, &x) == 0) {
			st->e[st->n].addr = x.addr;
			/* The parser bounded the name to KVMBOX_EXPORT_NAME_MAX bytes. */
			snprintf(st->e[st->n].name, sizeof(st->e[st->n].name), "%s", x.name);
			st->n++;
		}
	}
}

static void exports_fork(struct kvmbox_vm *vm, void *state, const struct kvmbox_vm *parent,
			 const void *parent_state)
{
	struct exports_state *st = state;
	const struct exports_state *p = parent_state;

	(void)vm;
	(void)parent;
	if (!st || !p)
		return;
	free(st->e);
	*st = *p;
	st->e = NULL;
	if (p->n && !(st->e = malloc(p->n * sizeof(*st->e)))) {
		st->n = 0;
		st->no_mem = true;
		return;
	}
	if (p->n)
		memcpy(st->e, p->e, p->n * sizeof(*st->e));
}

static void exports_release(struct kvmbox_vm *vm, void *state)
{
	struct exports_state *st = state;

	(void)vm;
	if (st)
		free(st->e);
	free(st);
}

/* Saved: u32 count, u32 segments; per export u64 address, u32 name length, the name (no
 * NUL); per segment u64 guest-physical start, u64 memory size. Nothing for a VM that loaded
 * no image. */
static int exports_save(struct kvmbox_vm *vm, void *state, struct snap_buf *out,
			struct kvmbox_error *err)
{
	const struct exports_state *st = state;

	(void)vm;
	(void)err;
	if (!st || !st->loaded || st->no_mem)
		return 0;
	sbuf_u32(out, st->n);
	sbuf_u32(out, st->nseg);
	for (unsigned i = 0; i < st->n; i++) {
		sbuf_u64(out, st->e[i].addr);
		sbuf_u32(out, (uint32_t)strlen(st->e[i].name));
		sbuf_put(out, st->e[i].name, strlen(st->e[i].name));
	}
	for (unsigned i = 0; i < st->nseg; i++) {
		sbuf_u64(out, st->seg[i].gpa);
		sbuf_u64(out, st->seg[i].memsz);
	}
	return 0;
}

/* One saved export into E: a name of 1 to KVMBOX_EXPORT_NAME_MAX name characters, as the
 * image parser allows. false when it is not. */
static bool read_export(struct snap_reader *r, struct export_entry *e)
{
	uint32_t len;

	e->addr = srd_u64(r);
	len = srd_u32(r);
	if (r->bad || !len || len > KVMBOX_EXPORT_NAME_MAX || !srd_get(r, e->name, len))
		return false;
	e->name[len] = '\0';
	for (uint32_t k = 0; k < len; k++)
		if (!image_name_char(e->name[k]))
			return false;
	return true;
}

/* DATA into ST, every byte checked: counts within the image parser's bounds, segments inside
 * guest memory (MEM bytes), each export inside a segment. -ENOEXEC with ERR otherwise. */
static int parse_exports(struct exports_state *st, const uint8_t *data, size_t len, uint64_t mem,
			 struct kvmbox_error *err)
{
	struct snap_reader r = { .p = data, .len = len };
	uint32_t n = srd_u32(&r), nseg = srd_u32(&r);

	if (r.bad || n > KVMBOX_EXPORTS_MAX || nseg > KVMBOX_IMAGE_MAX_SEGMENTS)
		return set_error(err, ENOEXEC, "corrupt: the exports' state says %u exports and %u "
				 "segments (at most %d and %d)", n, nseg, KVMBOX_EXPORTS_MAX,
				 KVMBOX_IMAGE_MAX_SEGMENTS);
	st->e = n ? calloc(n, sizeof(*st->e)) : NULL;
	if (n && !st->e)
		return set_error(err, ENOMEM, "out of memory for %u exports", n);
	for (st->n = 0; st->n < n; st->n++)
		if (!read_export(&r, &st->e[st->n]))
			return set_error(err, ENOEXEC, "corrupt: export %u of the snapshot is not a "
					 "name of 1 to %d letters, digits, '_', '.' or '$'", st->n,
					 KVMBOX_EXPORT_NAME_MAX);
	for (st->nseg = 0; st->nseg < nseg; st->nseg++) {
		struct kvmbox_segment *sg = &st->seg[st->nseg];

		sg->gpa = srd_u64(&r);
		sg->memsz = srd_u64(&r);
		if (r.bad || sg->gpa > mem || sg->memsz > mem - sg->gpa)
			return set_error(err, ENOEXEC, "corrupt: image segment %u of the snapshot lies "
					 "outside the guest's memory", st->nseg);
	}
	if (!srd_done(&r))
		return set_error(err, ENOEXEC, "corrupt: the exports' state has %zu bytes too many",
				 len - r.off);
	for (unsigned i = 0; i < st->n; i++) {
		bool inside = false;

		for (unsigned k = 0; k < st->nseg && !inside; k++)
			inside = st->e[i].addr >= st->seg[k].gpa &&
				 st->e[i].addr - st->seg[k].gpa < st->seg[k].memsz;
		if (!inside)
			return set_error(err, ENOEXEC, "corrupt: the snapshot's export %s lies outside "
					 "the image", st->e[i].name);
	}
	return 0;
}

/* A VM restored from a file takes the saver's exports. A reset to a point puts back what the
 * VM already holds: exports never change after a load, so there is nothing to do. */
static int exports_restore(struct kvmbox_vm *vm, void *state, const uint8_t *data, size_t len,
			   struct kvmbox_error *err)
{
	struct exports_state *st = state;
	int ret;

	if (!st || st->loaded || !len)
		return 0;
	ret = parse_exports(st, data, len, vm->mem.size, err);
	if (ret < 0) {
		free(st->e);
		memset(st, 0, sizeof(*st));
		return ret;
	}
	st->loaded = true;
	return 0;
}

static size_t exports_describe(const uint8_t *data, size_t len, char *buf, size_t size)
{
	struct snap_reader r = { .p = data, .len = len };
	uint32_t n = srd_u32(&r);
	size_t w = 0;

	(void)srd_u32(&r);
	if (r.bad || n > KVMBOX_EXPORTS_MAX)
		return (size_t)snprintf(buf, size, "exports: (unreadable)\n");
	if (size)
		buf[0] = '\0';
	if (!n) /* an image without KVMBOX_EXPORT: nothing to say */
		return 0;
	w += (size_t)snprintf(buf, size, "exports: %u function%s", n, n == 1 ? "" : "s");
	for (uint32_t i = 0; i < n && w < size; i++) {
		struct export_entry e;

		if (!read_export(&r, &e)) {
			w += (size_t)snprintf(buf + w, size - w, " (unreadable)");
			break;
		}
		w += (size_t)snprintf(buf + w, size - w, "%s %s at 0x%llx", i ? "," : ":", e.name,
				      (unsigned long long)e.addr);
	}
	if (w < size)
		w += (size_t)snprintf(buf + w, size - w, "\n");
	return w < size ? w : size ? size - 1 : 0;
}

unsigned kvmbox_vm_exports(const struct kvmbox_vm *vm)
{
	const struct exports_state *st = vm ? vm_feature_state(vm, &call_exports_feature) : NULL;

	return st ? st->n : 0;
}

int kvmbox_vm_export(const struct kvmbox_vm *vm, unsigned i, struct kvmbox_export *exp)
{
	const struct exports_state *st = vm ? vm_feature_state(vm, &call_exports_feature) : NULL;

	if (!st || !exp || i >= st->n)
		return -ENOENT;
	exp->name = st->e[i].name;
	exp->addr = st->e[i].addr;
	return 0;
}

int call_export_find(const struct kvmbox_vm *vm, const char *name, gva_t *addr, struct kvmbox_error *err)
{
	const struct exports_state *st = vm_feature_state(vm, &call_exports_feature);

	if (!name)
		return set_error(err, EINVAL, "kvmbox_vm_call: NULL function name");
	if (st && st->no_mem)
		return set_error(err, ENOMEM, "out of memory when the image's exports were kept");
	for (unsigned i = 0; st && i < st->n; i++)
		if (!strcmp(st->e[i].name, name)) {
			*addr = st->e[i].addr;
			return 0;
		}
	if (!st || !st->loaded)
		return set_error(err, ENOENT, "no function %.64s: this VM has no image loaded", name);
	if (!st->n)
		return set_error(err, ENOENT, "no function %.64s: the image exports none (KVMBOX_EXPORT "
				 "in the guest; a flat image has none: call it by address)", name);
	return set_error(err, ENOENT, "no function %.64s among the image's %u exports (`kvmbox call "
			 "IMAGE --list`)", name, st->n);
}

bool call_overlaps_image(const struct kvmbox_vm *vm, gpa_t start, gpa_t end)
{
	const struct exports_state *st = vm_feature_state(vm, &call_exports_feature);

	for (unsigned i = 0; st && i < st->nseg; i++)
		if (start < st->seg[i].gpa + st->seg[i].memsz && st->seg[i].gpa < end)
			return true;
	return false;
}

const struct vm_feature call_exports_feature = {
	.name = "exports",
	.init = exports_init,
	.load = exports_load,
	.fork = exports_fork,
	.release = exports_release,
	.save = exports_save,
	.restore = exports_restore,
	.describe = exports_describe,
};
