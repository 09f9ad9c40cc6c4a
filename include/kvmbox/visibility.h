/* Marks the public API of libkvmbox. The library is built with -fvisibility=hidden: a function
 * is exported only when a public header declares it between KVMBOX_API_BEGIN and
 * KVMBOX_API_END (one pair per header, after its #includes and before its final #endif), so
 * internal functions shared between the library's files stay out of the shared library's
 * symbol table. The pair also gives the declarations C linkage for C++ embedders. */
#ifndef KVMBOX_VISIBILITY_H
#define KVMBOX_VISIBILITY_H

#ifdef __cplusplus
#define KVMBOX_API_BEGIN _Pragma("GCC visibility push(default)") extern "C" {
#define KVMBOX_API_END } _Pragma("GCC visibility pop")
#else
#define KVMBOX_API_BEGIN _Pragma("GCC visibility push(default)")
#define KVMBOX_API_END _Pragma("GCC visibility pop")
#endif

#endif
