/** Limits shared by stages that must not import each other (the PE walker and the findings cap). */

/**
 * Findings of one rule kept for one file. A hostile image can hold millions of
 * problems of one kind (2 million straddling relocations fit in 4 MB); listing
 * them all makes reports of hundreds of megabytes that no reader uses, so the
 * rest are counted in one `skipped-check` note instead.
 */
export const FINDINGS_PER_RULE = 100;
