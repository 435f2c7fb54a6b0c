/** The suffix the wrappers give an image that failed the checks (`<name>.rejected`); searches skip such files. */
export const REJECTED_SUFFIX = '.rejected';
