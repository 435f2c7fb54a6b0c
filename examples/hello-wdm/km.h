/*
 * The few kernel declarations this example uses. There is no WDK on Linux;
 * with a WDK, include <ntddk.h> instead and drop this file.
 */
#pragma once

typedef long NTSTATUS;
typedef unsigned long ULONG;
typedef unsigned long long SIZE_T;
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
