/* Saving a VM (snap_save.h): kvmbox_vm_save, and the save a guest asks for, made by the run
 * loop. docs/snapshot.md says what is kept and why. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "kvmbox/snapshot.h"
#include "base/log.h"
#include "base/util.h"
#include "hc/hc.h"
#include "mem/mem.h"
#include "snap/snap_save.h"
#include "vm/vm.h"
#include "vm/vm_console.h"
#include "x86/x86.h"

int snap_savable(const struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	if (!vm->loaded)
		return set_error(err, ENOEXEC, "nothing to save: no image is loaded");
	switch (vm->last_stop) {
	case KVMBOX_STOP_FAULT:
	case KVMBOX_STOP_ASSERT:
	case KVMBOX_STOP_BAD_CALL:
	case KVMBOX_STOP_HOST_ERROR:
		return set_error(err, EBUSY, "the VM's last run ended in a fault or an error: there is "
				 "nothing to resume from");
	case KVMBOX_STOP_BLOCKED:
		/* Its call completes with what another VM sends, which a snapshot cannot hold. */
		return set_error(err, EBUSY, "the VM waits on a channel: a snapshot cannot keep a call "
				 "another VM is to complete");
	default:
		return 0;
	}
}

void snap_capture_free(struct snap_capture *c)
{
	cpu_state_free(&c->cpu);
	features_bytes_free(c->feat, c->nfeat);
	free(c->runs);
	free(c->meta);
	c->runs = NULL;
	c->meta = NULL;
	c->nfeat = 0;
}

/* The VM section: what the file says of the VM as a whole. */
static void vm_record(const struct kvmbox_vm *vm, const struct snap_capture *c, unsigned reason,
		      struct snap_vm_rec *v)
{
	const struct kvm_sregs *s = &c->cpu.sregs;
	struct timespec ts;

	memset(v, 0, sizeof(*v));
	clock_gettime(CLOCK_REALTIME, &ts);
	v->mode = vm->mode;
	v->flags = (vm->guard_null ? SNAP_VM_GUARD_NULL : 0) | (vm->ring ? SNAP_VM_COALESCED : 0);
	v->mem_size = vm->mem.size;
	v->slot_base = vm->mem.slot_base;
	v->generation = vm->generation;
	v->pc = s->cs.base + c->cpu.regs.rip;
	v->guest_tsc = c->cpu.tsc;
	v->saved_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	v->tsc_khz = c->cpu.tsc_khz;
	v->stop = vm->last_stop;
	v->reason = reason;
	/* What the vCPU holds decides: a table means the guest saw one. */
	v->cpuid_kind = !c->cpu.ncpuid ? SNAP_CPUID_NONE
		      : vm->cpuid_kind == SNAP_CPUID_NONE ? SNAP_CPUID_HOST : vm->cpuid_kind;
	v->coalesce_left = vm->coalesce_left;
	cpu_host_vendor(v->vendor);
}

int snap_capture(struct kvmbox_vm *vm, unsigned reason, struct snap_capture *c,
		 struct kvmbox_error *err)
{
	struct snap_file *f = &c->f;
	uint64_t nruns, pages;
	uint32_t crc = 0;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = cpu_capture(vm, CPU_ALL, &c->cpu, err);
	if (ret < 0)
		return ret;
	ret = features_save(vm, c->feat, err);
	if (ret < 0)
		return ret;
	c->nfeat = vm->nfeat;
	if (mem_nonzero_runs(&vm->mem, &c->runs, &nruns, &pages) < 0)
		return set_error(err, ENOMEM, "out of memory");
	vm_record(vm, c, reason, &f->vm);
	f->cpuid = c->cpu.cpuid;
	f->ncpuid = c->cpu.ncpuid;
	f->regs = c->cpu.regs;
	f->sregs = c->cpu.sregs;
	f->events = c->cpu.events;
	f->xcrs = c->cpu.xcrs;
	f->xsave = c->cpu.xsave;
	f->xsave_size = c->cpu.xsave_size;
	f->msrs = c->cpu.msrs;
	f->nmsrs = c->cpu.nmsrs;
	f->debugregs = c->cpu.debugregs;
	f->mp_state = c->cpu.mp_state;
	snap_stats_pack(&vm->stats, f->stats);
	for (unsigned i = 0; i < c->nfeat; i++) {
		if (!c->feat[i].len)
			continue;
		snprintf(f->features[f->nfeatures].name, sizeof(f->features[0].name), "%s",
			 c->feat[i].name);
		f->features[f->nfeatures].data = c->feat[i].data;
		f->features[f->nfeatures++].len = (uint32_t)c->feat[i].len;
	}
	f->runs = c->runs;
	f->nruns = nruns;
	f->pages = pages;
	for (uint64_t i = 0; i < nruns; i++)
		crc = snap_crc(crc, gmem_ptr(&vm->mem, c->runs[i].first << PAGE_SHIFT,
					     c->runs[i].pages << PAGE_SHIFT),
			       c->runs[i].pages << PAGE_SHIFT);
	f->mem_crc = crc;
	return snap_file_build(f, &c->meta, &c->meta_len, err);
}

int snap_write(struct kvmbox_vm *vm, const struct snap_capture *c, int fd, bool truncate,
	       struct kvmbox_error *err)
{
	uint64_t off = c->f.mem_offset;
	struct stat st;
	int ret = 0;

	/* Written over, the file would change (cut short: take away) the memory mapped from it:
	 * refused here, for every save (the embedder's, the guest's into save_fd, a fork's). */
	if (fstat(fd, &st) == 0 && mem_backed_by(&vm->mem, st.st_dev, st.st_ino))
		return set_error(err, EBUSY, "the VM's memory is mapped from this file: save into "
				 "another one");
	/* The pages first, the header last: a file cut short by a crash says so (its header
	 * gives the size it should have, or it has none). */
	for (uint64_t i = 0; i < c->f.nruns && ret == 0; i++) {
		uint64_t len = c->runs[i].pages << PAGE_SHIFT;

		ret = fd_write_all(fd, gmem_ptr(&vm->mem, c->runs[i].first << PAGE_SHIFT, len), len, off);
		off += len;
	}
	if (ret == 0)
		ret = fd_write_all(fd, c->meta, c->meta_len, 0);
	if (ret == 0 && truncate && ftruncate(fd, (off_t)c->f.file_size) < 0)
		ret = -errno;
	if (ret < 0)
		return set_error(err, -ret, "writing the snapshot: %s", strerror(-ret));
	return 0;
}

int kvmbox_vm_save(struct kvmbox_vm *vm, int fd, struct kvmbox_error *err)
{
	struct snap_capture c = { .nfeat = 0 };
	struct stat st;
	int ret;

	if (!vm)
		return set_error(err, EINVAL, "kvmbox_vm_save: NULL VM");
	if (fstat(fd, &st) < 0)
		return set_error(err, errno, "kvmbox_vm_save: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return set_error(err, EINVAL, "kvmbox_vm_save: not a regular file");
	ret = snap_savable(vm, err);
	if (ret < 0)
		return ret;
	/* What the guest printed before this point is the saver's to print. */
	vm_console_flush(vm);
	ret = cpu_settle(vm, false, err);
	if (ret == 0)
		ret = snap_capture(vm, SNAP_AT_STOP, &c, err);
	if (ret == 0)
		ret = snap_write(vm, &c, fd, true, err);
	snap_capture_free(&c);
	return ret;
}

/* A save's failure as the guest's result: the ABI's errno when it has that one. */
static int32_t guest_errno(int ret)
{
	switch (-ret) {
	case KVMBOX_EPERM: case KVMBOX_ENOENT: case KVMBOX_EACCES: case KVMBOX_EEXIST:
	case KVMBOX_EXDEV: case KVMBOX_ENOTDIR: case KVMBOX_EISDIR: case KVMBOX_EFBIG:
	case KVMBOX_ENOSPC: case KVMBOX_EROFS: case KVMBOX_ELOOP: case KVMBOX_EDQUOT:
	case KVMBOX_ENAMETOOLONG:
		return ret;
	default:
		return -KVMBOX_EIO;
	}
}

void snap_save_requested(struct kvmbox_vm *vm)
{
	struct kvm_run *run = vm->run;
	struct kvmbox_error err = { "" };
	struct snap_capture c;
	int32_t one = 1, live;
	int ret, fd = -1;

	vm->save_req.pending = false;
	vm_console_flush(vm);
	/* The snapshot resumes after the call with 1 in eax: the `in` completes with it before
	 * the state is read (docs/snapshot.md: how each host leaves an I/O exit). */
	memcpy((uint8_t *)run + run->io.data_offset, &one, sizeof(one));
	ret = cpu_settle(vm, true, &err);
	if (ret < 0) {
		vm_request_stop(vm, KVMBOX_STOP_HOST_ERROR, 0, "the snapshot the guest asked for: %s",
				err.msg);
		return;
	}
	run->exit_reason = KVM_EXIT_IO; /* as the run loop saw it: the call's exit */
	ret = snap_capture(vm, SNAP_AT_REQUEST, &c, &err);
	if (ret == 0 && !vm->save_req.path[0]) {
		ret = snap_write(vm, &c, vm->save_fd, true, &err);
	} else if (ret == 0) {
		ret = hc_files_create_sized(vm, vm->save_req.path, c.f.file_size, &fd);
		err.msg[0] = 0; /* the share's refusals are the guest's results, not kvmbox's */
		if (ret == 0) {
			ret = snap_write(vm, &c, fd, false, &err);
			close(fd);
		}
	}
	snap_capture_free(&c);
	if (ret == 0)
		vm->stats.snapshots++;
	if (ret < 0 && err.msg[0])
		log_msg(vm->log, KVMBOX_LOG_WARN, vm->name, "the snapshot the guest asked for: %s",
			err.msg);
	/* The running guest's answer: 0, or why there is no snapshot. */
	live = ret < 0 ? guest_errno(ret) : 0;
	if (x86_in_64bit_code(&run->s.regs.sregs))
		run->s.regs.regs.rax = (uint32_t)live;
	else
		run->s.regs.regs.rax = (run->s.regs.regs.rax & ~0xffffffffull) | (uint32_t)live;
	run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

void snap_template_free(struct kvmbox_vm *vm)
{
	if (!vm->fork)
		return;
	if (vm->fork->memfd >= 0)
		close(vm->fork->memfd);
	free(vm->fork->meta);
	free(vm->fork);
	vm->fork = NULL;
}
