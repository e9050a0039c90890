/**
 * The Apollo Client recipe of docs/api-guide.md against a real server (issue 9): two real Apollo Client 4 instances,
 * each with an HttpLink for queries and mutations and a GraphQLWsLink (graphql-ws over `ws`) for subscriptions, split
 * by operation type. Each watches the patient's balance query and subscribes to patientBalanceChanged; the cache alone
 * has to carry every new balance to the watched query, with no refetch.
 *
 * Client one uses a default InMemoryCache (the balance's `id` is all it needs), client two the exported type policy.
 * With TEST_INSTANCES=2 the clients talk to different instances, so balances also cross the bus.
 */
import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache, type TypedDocumentNode } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { OperationTypeNode } from 'graphql';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { LiveWriteOffDocument } from '../__generated__/graphql';
import { startTestServer, type Caller, type TestServer } from '../harness';
import { newCharge, newPatient } from '../fixtures';
import { waitFor } from '../support/wait';
import { ledgerTypePolicies, patientBalanceId } from '../../src/client/type-policies';

interface Balance {
  id: string;
  patientId: string;
  outstandingCents: number;
  writtenOffCents: number;
  version: number;
}

const BALANCE_FIELDS = gql`
  fragment ScreenBalance on PatientBalance {
    id
    patientId
    outstandingCents
    writtenOffCents
    version
  }
`;
const PATIENT_BALANCE: TypedDocumentNode<{ patient: { id: string; balance: Balance } | null }, { id: string }> = gql`
  query PatientBalanceScreen($id: ID!) {
    patient(id: $id) {
      id
      balance {
        ...ScreenBalance
      }
    }
  }
  ${BALANCE_FIELDS}
`;
const BALANCE_CHANGED: TypedDocumentNode<{ patientBalanceChanged: Balance }, { patientId: string }> = gql`
  subscription PatientBalanceScreenLive($patientId: ID!) {
    patientBalanceChanged(patientId: $patientId) {
      ...ScreenBalance
    }
  }
  ${BALANCE_FIELDS}
`;
const WRITE_OFF: TypedDocumentNode<{ writeOff: { balance: Balance | null; userErrors: { code: string }[] } }, { input: Record<string, unknown> }> = gql`
  mutation ScreenWriteOff($input: WriteOffInput!) {
    writeOff(input: $input) {
      balance {
        ...ScreenBalance
      }
      userErrors {
        code
      }
    }
  }
  ${BALANCE_FIELDS}
`;

/** One frontend: an Apollo Client, the operations its HTTP link sent, and what its watched query showed. */
interface Screen {
  apollo: ApolloClient;
  socket: WsClient;
  /** operationName of every HTTP request, in order. */
  httpOperations: string[];
  /** Every complete result of the watched patient query, with when it arrived. */
  shown: { balance: Balance; at: number }[];
  /** Every patientBalanceChanged message. */
  messages: Balance[];
  /** Errors either observable ended with. */
  errors: unknown[];
  stop(): void;
}

let server: TestServer;
const screens: Screen[] = [];

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const screen of screens.splice(0)) {
    screen.stop();
    screen.apollo.stop();
    await screen.socket.dispose();
  }
  await server.stop();
});

/**
 * The link set-up of docs/api-guide.md (HTTP for queries and mutations, graphql-ws for subscriptions, split by operation
 * type), with a fixed token and a fetch that records what goes over HTTP; then the screen's query and subscription.
 */
function openScreen(caller: Caller, instance: number, cache: InMemoryCache, patientId: string): Screen {
  const url = server.instances[instance % server.instances.length].url;
  const httpOperations: string[] = [];
  const countingFetch: typeof fetch = async (input, init) => {
    httpOperations.push(String(JSON.parse(String(init?.body)).operationName));
    return fetch(input, init);
  };
  const socket = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${caller.token}` },
  });
  const link = ApolloLink.split(
    (operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION,
    new GraphQLWsLink(socket),
    new HttpLink({ uri: url, headers: { authorization: `Bearer ${caller.token}` }, fetch: countingFetch }),
  );
  const apollo = new ApolloClient({ link, cache });

  const screen: Screen = { apollo, socket, httpOperations, shown: [], messages: [], errors: [], stop: () => undefined };
  const watching = apollo.watchQuery({ query: PATIENT_BALANCE, variables: { id: patientId } }).subscribe({
    next: (result) => {
      if (result.dataState === 'complete' && result.data.patient) screen.shown.push({ balance: result.data.patient.balance, at: Date.now() });
    },
    error: (error) => void screen.errors.push(error),
  });
  const live = apollo.subscribe({ query: BALANCE_CHANGED, variables: { patientId } }).subscribe({
    next: (result) => void (result.data && screen.messages.push(result.data.patientBalanceChanged)),
    error: (error) => void screen.errors.push(error),
  });
  screen.stop = () => {
    watching.unsubscribe();
    live.unsubscribe();
  };
  screens.push(screen);
  return screen;
}

const shownVersion = (screen: Screen) => screen.shown.at(-1)?.balance.version ?? -1;
const shownVersions = (screen: Screen) => screen.shown.map((entry) => entry.balance.version);

test('a write-off from one client updates the watched balance of both within a second, without refetching; 20 more from elsewhere end on the final version', async () => {
  const manager = await server.caller('BILLING_MANAGER');
  const patientId = await newPatient(server, manager, 'Apollo', 'Cache');
  // A line holds at most 20 write-offs: spread 21 over two lines.
  const { lineIds } = await newCharge(server, manager, patientId, [10_000, 10_000], 50_000);

  const billing = openScreen(await server.caller('BILLING', server.practice, 'billing-apollo'), 0, new InMemoryCache(), patientId);
  const dashboard = openScreen(await server.caller('VIEWER', server.practice, 'dashboard-apollo'), 1, new InMemoryCache({ typePolicies: ledgerTypePolicies }), patientId);
  const screensOpen = [billing, dashboard];
  for (const screen of screensOpen) {
    await waitFor(() => screen.shown.length > 0 && screen.messages.length > 0, () => `the first balance and the first live message (${JSON.stringify({ shown: screen.shown, messages: screen.messages, errors: screen.errors })})`);
  }
  const initial = billing.shown[0].balance;
  expect(initial.id).toBe(patientBalanceId(patientId));
  // The query and the subscription name the same balance: one cached object per patient.
  for (const screen of screensOpen) expect([screen.shown[0].balance, screen.messages[0]]).toEqual([initial, initial]);
  for (const screen of screensOpen) expect(screen.httpOperations).toEqual(['PatientBalanceScreen']);

  // One write-off sent by client one, through its own Apollo Client.
  const sentAt = Date.now();
  const result = await billing.apollo.mutate({
    mutation: WRITE_OFF,
    variables: { input: { responsibilityId: lineIds[0], amountCents: 100, reason: 'SMALL_BALANCE' } },
  });
  expect(result.data?.writeOff.userErrors).toEqual([]);
  expect(result.data?.writeOff.balance).toMatchObject({ id: initial.id, version: initial.version + 1 });
  for (const screen of screensOpen) {
    await waitFor(() => shownVersion(screen) === initial.version + 1, () => `version ${initial.version + 1} on screen (shown ${shownVersions(screen)})`, 1_000);
    expect(screen.shown.at(-1)!.at - sentAt).toBeLessThan(1_000);
    expect(screen.shown.at(-1)!.balance).toMatchObject({ outstandingCents: initial.outstandingCents - 100, writtenOffCents: initial.writtenOffCents + 100 });
  }
  expect(billing.httpOperations).toEqual(['PatientBalanceScreen', 'ScreenWriteOff']);
  expect(dashboard.httpOperations).toEqual(['PatientBalanceScreen']);

  // 20 at once from another user, not through either client.
  const frontDesk = await server.caller('FRONT_DESK', server.practice, 'front-desk-elsewhere');
  const writeOffs = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      server.ok(frontDesk, LiveWriteOffDocument, { input: { responsibilityId: lineIds[1 - (i % 2)], amountCents: 100, reason: 'SMALL_BALANCE' } }, i),
    ),
  );
  expect(writeOffs.flatMap((data) => data.writeOff.userErrors)).toEqual([]);
  const finalVersion = initial.version + 21;
  expect(Math.max(...writeOffs.map((data) => data.writeOff.balance!.version))).toBe(finalVersion);

  for (const screen of screensOpen) {
    await waitFor(() => shownVersion(screen) === finalVersion, () => `version ${finalVersion} on screen (shown ${shownVersions(screen)})`);
    expect(screen.shown.at(-1)!.balance).toMatchObject({ id: initial.id, outstandingCents: initial.outstandingCents - 2_100, writtenOffCents: initial.writtenOffCents + 2_100 });
    // Never an older balance after a newer one, and never a query sent to catch up.
    const versions = shownVersions(screen);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  }
  expect(billing.httpOperations).toEqual(['PatientBalanceScreen', 'ScreenWriteOff']);
  expect(dashboard.httpOperations).toEqual(['PatientBalanceScreen']);
  for (const screen of screensOpen) expect(screen.errors).toEqual([]);
});
