/* Flat 32-bit and 64-bit hello (kvm-hello-world's guest.c), built with -m32 and -m64: loaded
 * and entered at 0, _start first in the image (section .start, placed first by flat.ld), the
 * stack pointer set by the host. Writes "Hello, world!\n" to port 0xE9 a byte at a time,
 * stores 42 (32 bits) at 0x400 and halts with eax = 42. */
#include "kvmbox/io.h"

void _start(void);

__attribute__((noreturn, section(".start"))) void _start(void)
{
	const char *p;

	for (p = "Hello, world!\n"; *p; ++p)
		outb(0xE9, (uint8_t)*p);
	*(volatile uint32_t *)0x400 = 42;
	for (;;)
		__asm__ volatile("hlt" : : "a"(42) : "memory");
}
