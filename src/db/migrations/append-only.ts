/** Tables whose rows are never edited or deleted (docs/design.md §2): corrections are new rows. */
export const APPEND_ONLY_TABLES = [
  'charges',
  'remittances',
  'payments',
  'allocations',
  'allocation_reductions',
  'refunds',
  'write_offs',
  'write_off_reversals',
  'audit_events',
];
/** PR lines change status when cancelled, but are never deleted. */
export const NEVER_DELETED_TABLES = ['responsibilities'];
