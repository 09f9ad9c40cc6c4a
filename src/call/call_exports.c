/* The functions a VM's image exports (KVMBOX_EXPORT, the kvmbox export notes that
 * src/image/image.c checks), kept at load for kvmbox_vm_call, with where the image lies (a
 * call's area and return stub must not land on it). A feature with a load hook and no
 * hypercall: the names outlive the caller's image buffer. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "kvmbox/call.h"
#include "base/util.h"
#include "call/call_int.h"
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
		return set_error(err, ENOENT, "no function %.64s: this VM has no image loaded (a VM "
				 "made from a snapshot keeps no exports)", name);
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
};
