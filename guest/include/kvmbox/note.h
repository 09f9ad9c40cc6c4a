/* The kvmbox CPU-mode ELF note, usable from assembler (guest/start/) and C.
 * kvmbox/abi.h is C only, so the note type is repeated here; guest.h checks that the two agree. */
#ifndef KVMBOX_GUEST_NOTE_H
#define KVMBOX_GUEST_NOTE_H

#define KVMBOX_ASM_NOTE_MODE 1 /* == KVMBOX_NOTE_MODE */
#define KVMBOX_ASM_NOTE_GUARD_NULL 2 /* == KVMBOX_NOTE_GUARD_NULL */
#define KVMBOX_ASM_NOTE_EXPORT 3 /* == KVMBOX_NOTE_EXPORT */

#ifdef __ASSEMBLER__
/* Emit the note: owner "kvmbox", type KVMBOX_NOTE_MODE, one 4-byte descriptor = MODE
 * (a KVMBOX_NOTE_MODE_* value). Layout per the ELF gABI "Note Section": namesz, descsz,
 * type, then name and descriptor each padded to 4 bytes. */
.macro KVMBOX_MODE_NOTE mode
	.pushsection .note.kvmbox, "a", @note
	.balign 4
	.long 8572f - 8571f
	.long 8574f - 8573f
	.long KVMBOX_ASM_NOTE_MODE
8571:	.asciz "kvmbox"
8572:	.balign 4
8573:	.long \mode
8574:	.balign 4
	.popsection
.endm

/* Emit the guard note (type KVMBOX_NOTE_GUARD_NULL): its descriptor is the link-time value
 * of __kvmbox_guard_null, which guest/link/guest.ld PROVIDEs as 1 (guard page 0) and a guest
 * sets to 0 with KVMBOX_NO_GUARD_NULL (kvmbox/guest.h). Weak: under a linker script of the
 * guest's own that does not provide it, the value is 0 and the guest keeps page 0. */
.macro KVMBOX_GUARD_NULL_NOTE
	.weak __kvmbox_guard_null
	.pushsection .note.kvmbox, "a", @note
	.balign 4
	.long 8572f - 8571f
	.long 4
	.long KVMBOX_ASM_NOTE_GUARD_NULL
8571:	.asciz "kvmbox"
8572:	.balign 4
	.long __kvmbox_guard_null
	.popsection
.endm
#endif

#endif
