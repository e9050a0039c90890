/**
 * What a frontend's GraphQL cache needs to know about this API (docs/api-guide.md). Plain functions and objects that
 * import nothing, not even types, so a frontend can use this file as it is, whatever its client library.
 *
 * Apollo Client: `new InMemoryCache({ typePolicies: ledgerTypePolicies })`.
 */

/**
 * The `id` of a patient's balance: `PatientBalance:<patientId>`. Unique across every type of the schema, as Relay
 * requires, and the same wherever a balance is returned (patient, mutation payloads, subscriptions), so every cache
 * keeps one object per patient's balance.
 */
export function patientBalanceId(patientId: string): string {
  return `PatientBalance:${patientId}`;
}

/** The key under which the Apollo cache below keeps a balance: Apollo's usual `<typename>:<id>`. */
export function patientBalanceCacheKey(balanceId: string): string {
  return `PatientBalance:${balanceId}`;
}

/** What the merge below uses of Apollo's merge-function options (the same names and meaning as Apollo's). */
export interface BalanceMergeOptions {
  readField(fieldName: string, from?: object): unknown;
  mergeObjects(existing: object, incoming: object): object;
  toReference(cacheKey: string): object | undefined;
}

/**
 * Writes an arriving balance into the one cached object for its patient, unless the cached one has a higher `version`
 * (a slow query or mutation answer overtaken by a subscription message): then the cached balance stays as it is.
 *
 * This merge normalises the balance itself, by its `id`, instead of leaving that to Apollo's `keyFields`: Apollo writes
 * a keyed object into its cache before any merge function sees it, too late to compare versions. A balance selected
 * without `id` is merged into the object already in its field, with the same version check.
 */
export function keepNewerBalance(existing: object | undefined, incoming: object, { readField, mergeObjects, toReference }: BalanceMergeOptions): object {
  const id = readField('id', incoming);
  const cached = typeof id === 'string' ? toReference(patientBalanceCacheKey(id)) : existing;
  if (!cached) return incoming;
  const cachedVersion = readField('version', cached);
  const incomingVersion = readField('version', incoming);
  if (typeof cachedVersion === 'number' && typeof incomingVersion === 'number' && cachedVersion > incomingVersion) return cached;
  return mergeObjects(cached, incoming);
}

/** Apollo Client's `typePolicies` for this API. */
export const ledgerTypePolicies = {
  PatientBalance: {
    keyFields: false as const,
    merge: keepNewerBalance,
  },
  // An audit event's actor is the user *with the role they had then*: kept with its event, not merged by user id.
  Actor: {
    keyFields: false as const,
  },
};
