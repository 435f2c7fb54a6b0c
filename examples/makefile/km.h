/*
 * The few kernel declarations this driver uses. There is no WDK on Linux, so
 * they are declared here. With a WDK, delete this file, include <ntddk.h> (or
 * <wdm.h>) instead, add the WDK's km include directories to build.include
 * (e.g. "C:/Program Files (x86)/Windows Kits/10/Include/10.0.22621.0/km" and
 * ".../shared"), and link its ntoskrnl.lib instead of ntoskrnl.def.
 */
#pragma once

typedef long NTSTATUS;
typedef unsigned long ULONG;
#ifdef _WIN64
typedef unsigned long long SIZE_T;
#else
typedef unsigned long SIZE_T;
#endif
typedef void *PVOID;
typedef struct _DRIVER_OBJECT *PDRIVER_OBJECT;
typedef struct _UNICODE_STRING *PUNICODE_STRING;

#define NTAPI __stdcall
#define STATUS_SUCCESS ((NTSTATUS)0)
#define STATUS_INSUFFICIENT_RESOURCES ((NTSTATUS)0xC000009AL)

typedef enum _POOL_TYPE {
  NonPagedPool = 0,
  NonPagedPoolExecute = 0,
  PagedPool = 1,
  NonPagedPoolNx = 0x200,
} POOL_TYPE;

__declspec(dllimport) PVOID NTAPI ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
__declspec(dllimport) void NTAPI ExFreePoolWithTag(PVOID P, ULONG Tag);
__declspec(dllimport) ULONG __cdecl DbgPrint(const char *Format, ...);
