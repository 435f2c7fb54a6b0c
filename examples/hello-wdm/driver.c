/* A minimal WDM driver that follows the memory integrity rules. */
#include "km.h"

static PVOID g_buffer;

static void NTAPI DriverUnload(PDRIVER_OBJECT DriverObject) {
  (void)DriverObject;
  if (g_buffer) ExFreePoolWithTag(g_buffer, 'oleH');
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath) {
  (void)RegistryPath;
  /* Non-executable pool: NonPagedPoolNx, never NonPagedPool. */
  g_buffer = ExAllocatePoolWithTag(NonPagedPoolNx, 64, 'oleH');
  if (!g_buffer) return STATUS_INSUFFICIENT_RESOURCES;
  DbgPrint("hello-wdm: loaded\n");
  /* DRIVER_OBJECT is opaque here; a WDK build would set DriverObject->DriverUnload. */
  (void)DriverObject;
  (void)DriverUnload;
  return STATUS_SUCCESS;
}
