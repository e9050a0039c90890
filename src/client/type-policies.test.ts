/**
 * The exported type policies in a real Apollo InMemoryCache: balances arrive as the answers of queries, mutations and
 * subscriptions do, and the cached balance never goes back to an older version; actors and timeline entries keep
 * apart what their ids alone would merge.
 */
import { gql, InMemoryCache } from '@apollo/client';
import { ledgerTypePolicies, patientBalanceCacheKey, patientBalanceId } from './type-policies';

const PATIENT = gql`
  query Patient($id: ID!) {
    patient(id: $id) {
      id
      balance {
        id
        patientId
        outstandingCents
        version
      }
    }
  }
`;
const BALANCE_CHANGED = gql`
  subscription BalanceChanged($id: ID!) {
    patientBalanceChanged(patientId: $id) {
      id
      patientId
      outstandingCents
      version
    }
  }
`;
const WRITE_OFF = gql`
  mutation WriteOff($input: WriteOffInput!) {
    writeOff(input: $input) {
      balance {
        id
        patientId
        outstandingCents
        version
      }
    }
  }
`;

const patientId = 'patient-1';
const balance = (version: number, outstandingCents: number) => ({
  __typename: 'PatientBalance' as const,
  id: patientBalanceId(patientId),
  patientId,
  outstandingCents,
  version,
});

function cacheWithPatient(version: number, outstandingCents: number): InMemoryCache {
  const cache = new InMemoryCache({ typePolicies: ledgerTypePolicies });
  cache.writeQuery({ query: PATIENT, variables: { id: patientId }, data: { patient: { __typename: 'Patient', id: patientId, balance: balance(version, outstandingCents) } } });
  return cache;
}

const shownBalance = (cache: InMemoryCache) => cache.readQuery<{ patient: { balance: ReturnType<typeof balance> } }>({ query: PATIENT, variables: { id: patientId } })?.patient.balance;

test('the balance id is PatientBalance:<patientId>', () => {
  expect(patientBalanceId('abc')).toBe('PatientBalance:abc');
});

test('a newer balance from a subscription replaces the one a query cached, as one object per patient', () => {
  const cache = cacheWithPatient(3, 5_000);
  cache.writeQuery({ query: BALANCE_CHANGED, variables: { id: patientId }, data: { patientBalanceChanged: balance(4, 4_000) } });
  expect(shownBalance(cache)).toMatchObject({ version: 4, outstandingCents: 4_000 });
  // Both fields point at the same cached object, under Apollo's usual key.
  expect(cache.extract()[patientBalanceCacheKey(patientBalanceId(patientId))]).toMatchObject({ version: 4, outstandingCents: 4_000 });
});

test('an older balance written after a newer one keeps the newer, whichever operation brings it', () => {
  const cache = cacheWithPatient(7, 2_000);
  cache.writeQuery({ query: BALANCE_CHANGED, variables: { id: patientId }, data: { patientBalanceChanged: balance(5, 3_000) } });
  expect(shownBalance(cache)).toMatchObject({ version: 7, outstandingCents: 2_000 });

  cache.writeQuery({ query: WRITE_OFF, variables: { input: {} }, data: { writeOff: { __typename: 'WriteOffPayload', balance: balance(6, 2_500) } } });
  expect(shownBalance(cache)).toMatchObject({ version: 7, outstandingCents: 2_000 });

  cache.writeQuery({ query: PATIENT, variables: { id: patientId }, data: { patient: { __typename: 'Patient', id: patientId, balance: balance(2, 9_000) } } });
  expect(shownBalance(cache)).toMatchObject({ version: 7, outstandingCents: 2_000 });
  // Every field that received a balance points at the one cached object; no stale copy is kept beside it.
  const stored = cache.extract() as Record<string, Record<string, unknown>>;
  const key = patientBalanceCacheKey(patientBalanceId(patientId));
  expect(stored[`Patient:${patientId}`].balance).toEqual({ __ref: key });
  expect(Object.entries(stored.ROOT_QUERY).filter(([field]) => field !== '__typename' && !field.startsWith('patient(')).map(([, value]) => value)).toEqual([
    { __ref: key },
    { __typename: 'WriteOffPayload', balance: { __ref: key } },
  ]);
});

test('a balance selected without its id is still never replaced by an older one', () => {
  const PATIENT_WITHOUT_BALANCE_ID = gql`
    query PatientWithoutBalanceId($id: ID!) {
      patient(id: $id) {
        id
        balance {
          patientId
          outstandingCents
          version
        }
      }
    }
  `;
  const withoutId = ({ id: _id, ...rest }: ReturnType<typeof balance>) => rest;
  const cache = new InMemoryCache({ typePolicies: ledgerTypePolicies });
  const write = (version: number, outstandingCents: number) =>
    cache.writeQuery({ query: PATIENT_WITHOUT_BALANCE_ID, variables: { id: patientId }, data: { patient: { __typename: 'Patient', id: patientId, balance: withoutId(balance(version, outstandingCents)) } } });
  const read = () => cache.readQuery<{ patient: { balance: { version: number } } }>({ query: PATIENT_WITHOUT_BALANCE_ID, variables: { id: patientId } })?.patient.balance;
  write(4, 1_000);
  write(3, 1_500);
  expect(read()).toMatchObject({ version: 4, outstandingCents: 1_000 });
  write(5, 500);
  expect(read()).toMatchObject({ version: 5, outstandingCents: 500 });
});

test('the same version and newer ones are written', () => {
  const cache = cacheWithPatient(1, 8_000);
  cache.writeQuery({ query: WRITE_OFF, variables: { input: {} }, data: { writeOff: { __typename: 'WriteOffPayload', balance: balance(2, 7_000) } } });
  expect(shownBalance(cache)).toMatchObject({ version: 2, outstandingCents: 7_000 });
  cache.writeQuery({ query: BALANCE_CHANGED, variables: { id: patientId }, data: { patientBalanceChanged: balance(2, 7_000) } });
  expect(shownBalance(cache)).toMatchObject({ version: 2, outstandingCents: 7_000 });
});

test('a watcher of the patient sees the newer balance and is not told about the stale one', () => {
  const cache = cacheWithPatient(1, 8_000);
  const seen: number[] = [];
  const stop = cache.watch<{ patient: { balance: { version: number } } }>({
    query: PATIENT,
    variables: { id: patientId },
    optimistic: false,
    callback: (diff) => void seen.push(diff.result?.patient?.balance?.version ?? -1),
  });
  cache.writeQuery({ query: BALANCE_CHANGED, variables: { id: patientId }, data: { patientBalanceChanged: balance(3, 6_000) } });
  cache.writeQuery({ query: WRITE_OFF, variables: { input: {} }, data: { writeOff: { __typename: 'WriteOffPayload', balance: balance(2, 7_000) } } });
  stop();
  expect(seen).toEqual([3]);
});

test("an audit event's actor keeps the role of that event, not the user's latest", () => {
  const AUDIT = gql`
    query Audit {
      auditTrail(first: 2) {
        edges {
          node {
            id
            actor {
              id
              role
            }
          }
        }
      }
    }
  `;
  const event = (id: string, role: string) => ({ __typename: 'AuditEventEdge', node: { __typename: 'AuditEvent', id, actor: { __typename: 'Actor', id: 'user-1', role } } });
  const cache = new InMemoryCache({ typePolicies: ledgerTypePolicies });
  cache.writeQuery({ query: AUDIT, data: { auditTrail: { __typename: 'AuditEventConnection', edges: [event('event-2', 'BILLING_MANAGER'), event('event-1', 'BILLING')] } } });
  const read = cache.readQuery<{ auditTrail: { edges: { node: { actor: { role: string } } }[] } }>({ query: AUDIT });
  expect(read?.auditTrail.edges.map((edge) => edge.node.actor.role)).toEqual(['BILLING_MANAGER', 'BILLING']);
});
