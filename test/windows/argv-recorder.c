/*
 * A stand-in for a Windows tool in the Windows lane (wine has no Windows LLVM here): writes
 * the command line it was started with (UTF-16) to the file named by HVCI_TEST_ARGV_FILE and
 * exits 0, so a test sees exactly what a shim and the wrapper behind it passed on.
 * No C runtime: kernel32 only, entry point `start`.
 */
typedef unsigned short wchar;
__declspec(dllimport) wchar *__stdcall GetCommandLineW(void);
__declspec(dllimport) unsigned long __stdcall GetEnvironmentVariableW(const wchar *name, wchar *value, unsigned long size);
__declspec(dllimport) void *__stdcall CreateFileW(const wchar *name, unsigned long access, unsigned long share, void *security, unsigned long disposition, unsigned long flags, void *tmpl);
__declspec(dllimport) int __stdcall WriteFile(void *file, const void *data, unsigned long size, unsigned long *written, void *overlapped);
__declspec(dllimport) int __stdcall CloseHandle(void *file);
__declspec(dllimport) void __stdcall ExitProcess(unsigned int code);

void start(void) {
  static wchar path[1024];
  const wchar *line = GetCommandLineW();
  unsigned long n = 0, written = 0;
  while (line[n]) n++;
  if (GetEnvironmentVariableW((const wchar *)L"HVCI_TEST_ARGV_FILE", path, 1024) - 1 >= 1023) ExitProcess(3);
  /* GENERIC_WRITE, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL */
  void *file = CreateFileW(path, 0x40000000, 0, 0, 2, 0x80, 0);
  if (file == (void *)-1) ExitProcess(4);
  WriteFile(file, line, n * 2, &written, 0);
  CloseHandle(file);
  ExitProcess(0);
}
