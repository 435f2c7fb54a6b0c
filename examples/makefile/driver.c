/*
 * make_driver: a minimal WDM driver that passes hvci-build's memory integrity checks.
 * Build it with `npx hvci-build build`.
 */
#include "km.h"

static PVOID g_buffer;

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath) {
  (void)DriverObject;
  (void)RegistryPath;
  /* Non-executable pool: NonPagedPoolNx, never NonPagedPool (HVCI rule "Use NX APIs/flags"). */
  g_buffer = ExAllocatePoolWithTag(NonPagedPoolNx, 64, 'virD');
  if (!g_buffer) return STATUS_INSUFFICIENT_RESOURCES;
  DbgPrint("make_driver: loaded\n");
  ExFreePoolWithTag(g_buffer, 'virD');
  g_buffer = 0;
  return STATUS_SUCCESS;
}
