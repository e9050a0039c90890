import { emptyLedger } from '../ledger';
import { LedgerCache } from './ledger-cache';

test('a state is handed out once, and only at the version the caller read under the lock', () => {
  const cache = new LedgerCache(10);
  cache.put(emptyLedger('P1', 4));
  expect(cache.take('P1', 5)).toBeNull();
  // A mismatch also drops it: another instance changed the patient, the state is stale for good.
  expect(cache.take('P1', 4)).toBeNull();
  cache.put(emptyLedger('P1', 4));
  expect(cache.take('P1', 4)?.version).toBe(4);
  expect(cache.take('P1', 4)).toBeNull();
});

test('at most `capacity` patients stay, the least recently used leave first', () => {
  const cache = new LedgerCache(2);
  cache.put(emptyLedger('A', 1));
  cache.put(emptyLedger('B', 1));
  cache.put(emptyLedger('A', 2)); // A is now the most recent
  cache.put(emptyLedger('C', 1));
  expect(cache.size).toBe(2);
  expect(cache.take('B', 1)).toBeNull();
  expect(cache.take('A', 2)).not.toBeNull();
  expect(cache.take('C', 1)).not.toBeNull();
});

test('capacity 0 keeps nothing; drop forgets a patient', () => {
  const none = new LedgerCache(0);
  none.put(emptyLedger('A', 1));
  expect(none.size).toBe(0);
  const cache = new LedgerCache(5);
  cache.put(emptyLedger('A', 1));
  cache.drop('A');
  expect(cache.take('A', 1)).toBeNull();
});
