/** The pure ledger rules of docs/design.md §2: no I/O, no storage, no GraphQL. */
export * from './types';
export * from './codes';
export * from './limits';
export * from './money';
export * from './text';
export * from './lines';
export * from './availability';
export * from './charge';
export * from './write-off';
export * from './cancel';
export * from './payment';
export * from './refund';
export * from './remittance';
export * from './balance';
export * from './dates';
export * from './ledger-state';
