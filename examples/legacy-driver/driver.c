/*
 * A driver with a legacy build setup: its link line merges .rdata into .text,
 * makes .data writable and executable, and opts out of NX. hvci-build check
 * fails it and explains each problem.
 */
#include "km.h"

static PVOID g_buffer;
static ULONG g_counter = 1;

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath) {
  (void)DriverObject;
  (void)RegistryPath;
  g_buffer = ExAllocatePoolWithTag(NonPagedPoolNx, 64, 'ygeL');
  if (!g_buffer) return STATUS_INSUFFICIENT_RESOURCES;
  g_counter++;
  DbgPrint("legacy: %lu\n", g_counter);
  ExFreePoolWithTag(g_buffer, 'ygeL');
  return STATUS_SUCCESS;
}
