/* Flat real-mode hello (kvm-hello-world's guest16): loaded and entered at 0 with segment
 * bases 0. Writes "Hello, world!\n" to port 0xE9 a byte at a time, stores 42 (32 bits) at
 * 0x400 and halts with eax = 42. Needs no stack. */
	.code16
	.section .start, "ax", @progbits
	.globl _start
_start:
	cld
	movw $msg, %si
	movw $0xE9, %dx
1:	lodsb			/* al = ds:[si++] */
	testb %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:	movl $42, 0x400
	movl $42, %eax
3:	hlt
	jmp 3b

msg:	.asciz "Hello, world!\n"

	.section .note.GNU-stack, "", @progbits
