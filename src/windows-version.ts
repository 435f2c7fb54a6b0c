/**
 * Windows 10 release names and the build numbers they shipped as, so a config
 * can say `minWindowsVersion: '1703'` or `'10.0.15063'`.
 */
const RELEASES: Readonly<Record<string, number>> = {
  '1507': 10240,
  '1511': 10586,
  '1607': 14393,
  '1703': 15063,
  '1709': 16299,
  '1803': 17134,
  '1809': 17763,
  '1903': 18362,
  '1909': 18363,
  '2004': 19041,
  '20h2': 19042,
  '21h1': 19043,
  '21h2': 19044,
  '22h2': 19045,
  win10: 10240,
  win11: 22000,
};

/** Straddling base relocations are supported from this build on. */
export const WINDOWS_1703_BUILD = 15063;

export const WINDOWS_VERSION_FORMS = "a release ('1507', '1607', '1703', ..., '22H2'), 'win10', 'win11', or a build ('10.0.15063')";

/** The build number for a version string, or undefined when it is not one we know. */
export function parseWindowsVersion(value: string | number): number | undefined {
  const text = String(value).trim().toLowerCase();
  const known = RELEASES[text];
  if (known !== undefined) return known;
  const m = /^10\.0\.(\d{5})$/.exec(text);
  if (m) return Number(m[1]);
  return undefined;
}
