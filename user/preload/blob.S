/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* ebprof mem's interposer (ebmem.c, built as a library), carried in ebprof's binary */
	.section .rodata
	.balign 16
	.globl ebmem_so_start, ebmem_so_end
ebmem_so_start:
	.incbin EBMEM_SO
ebmem_so_end:
	.section .note.GNU-stack,"",@progbits
