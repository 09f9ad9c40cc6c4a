/* x86 port I/O for kvmbox guests: freestanding inlines, usable in every CPU mode. */
#ifndef KVMBOX_GUEST_IO_H
#define KVMBOX_GUEST_IO_H

#include <stdint.h>

/* Each is exactly one in/out instruction, so each is exactly one I/O exit (or one
 * coalesced write) on the host. The "memory" clobber orders them against normal stores. */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

/* Halt until the next interrupt; on kvmbox a hlt ends the run (KVM_EXIT_HLT). */
static inline void hlt(void)
{
	__asm__ volatile("hlt" : : : "memory");
}

#endif
