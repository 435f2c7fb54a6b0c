/*
 * Microsoft's example of relocations that straddle a page (HVCI guidance,
 * "Unsupported Relocs"): packed structs holding pointers, in a large array.
 * Built only with `make BAD=1`, to show a driver that fails validation.
 */
#pragma pack(push, 1)
typedef struct _BAD_STRUCT {
  unsigned short Value;
  const char *String;
} BAD_STRUCT;
#pragma pack(pop)

#define I0 {0, "BAD_STRING"},
#define I1 I0 I0 I0 I0 I0 I0 I0 I0
#define I2 I1 I1 I1 I1 I1 I1 I1 I1
#define I3 I2 I2 I2 I2 I2 I2 I2 I2
#define I4 I3 I3 I3 I3 I3 I3 I3 I3
BAD_STRUCT MayHaveStraddleRelocations[4096] = {I4};

const BAD_STRUCT *StraddleTable(void) { return MayHaveStraddleRelocations; }
