import { GraphQLError, GraphQLSchema, parse } from 'graphql';
import { buildAppSchema } from '../schema';
import { ExecutionGroups, executions } from '../balances/shared-execution';
import { LatestWinsQueue } from '../balances/latest-wins-queue';
import type { BalanceView } from '../read-model/views';
import { BACKPRESSURE_BYTES, DeliveryConnection, SharedDelivery } from './shared-delivery';

/**
 * A delivery against a socket whose buffer the test sets: what it writes, and when, is all it decides (the sockets
 * themselves are tested end to end in test/e2e/subscriptions and shared-subscriptions).
 */
const DOCUMENT = parse('subscription($id: ID!) { patientBalanceChanged(patientId: $id) { patientId version outstandingCents } }');
let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildAppSchema();
});

function balance(version: number, patientId = 'p1'): BalanceView {
  return { patientId, version, outstandingCents: 1000 - version, responsibilityCents: 1000, paidCents: 0, writtenOffCents: version, creditCents: 0, updatedAt: '2026-12-01T00:00:00.000Z' };
}

/** A socket that records each frame; a write given a callback is held until the test finishes it. */
function connection(bufferedAmount = 0) {
  const frames: { id: string; version: number }[] = [];
  const held: ((error?: Error) => void)[] = [];
  const ended: { id: string; errors?: readonly GraphQLError[] }[] = [];
  const socket = {
    readyState: 1 as number,
    bufferedAmount,
    send(data: Buffer, options: { binary: boolean }, done?: (error?: Error) => void) {
      expect(options.binary).toBe(false);
      const message = JSON.parse(String(data));
      frames.push({ id: message.id, version: message.payload.data.patientBalanceChanged.version });
      if (done) held.push(done);
    },
  };
  const owner: DeliveryConnection = { socket: socket as unknown as DeliveryConnection['socket'], end: (id, errors) => void ended.push({ id, errors }) };
  return { owner, socket, frames, held, ended };
}

function group(groups: ExecutionGroups) {
  return groups.join('key', () => ({ schema, document: DOCUMENT, operationName: null, variableValues: { id: 'p1' }, contextValue: {}, formatErrors: () => [] }));
}

const noLog = { note: () => undefined };
/** Execution is asynchronous (type-graphql's resolvers): the frames of a balance are written a turn later. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

test('while the socket keeps up, every balance is written as soon as it is built, in order, as a text frame with its own id', async () => {
  const groups = new ExecutionGroups();
  const queue = new LatestWinsQueue<BalanceView>(() => undefined);
  const { owner, frames } = connection();
  new SharedDelivery(owner, 'sub-1', noLog, group(groups), groups, queue);
  for (const version of [1, 2, 3]) {
    queue.offer('p1', balance(version));
    await settled();
  }
  expect(frames).toEqual([1, 2, 3].map((version) => ({ id: 'sub-1', version })));
});

test(`a socket with more than ${BACKPRESSURE_BYTES} bytes waiting gets the next balance only after its write, and then the newest`, async () => {
  const groups = new ExecutionGroups();
  const queue = new LatestWinsQueue<BalanceView>(() => undefined);
  const slow = connection(BACKPRESSURE_BYTES);
  new SharedDelivery(slow.owner, 's', noLog, group(groups), groups, queue);
  queue.offer('p1', balance(1));
  await settled();
  for (const version of [2, 3, 4]) queue.offer('p1', balance(version));
  await settled();
  expect(slow.frames.map((f) => f.version)).toEqual([1]);
  // The write is done and the socket has caught up: the newest balance goes next, and then each one at once.
  slow.socket.bufferedAmount = 0;
  slow.held.shift()!();
  await settled();
  queue.offer('p1', balance(5));
  await settled();
  expect(slow.frames.map((f) => f.version)).toEqual([1, 4, 5]);
});

test('the members of a group share one execution per balance; a closed socket ends its operation and leaves the group', async () => {
  const groups = new ExecutionGroups();
  const queues = [0, 1, 2].map(() => new LatestWinsQueue<BalanceView>(() => undefined));
  const sockets = queues.map(() => connection());
  queues.forEach((queue, i) => new SharedDelivery(sockets[i].owner, `id-${i}`, noLog, group(groups), groups, queue));
  const before = executions.count;
  for (const queue of queues) queue.offer('p1', balance(7));
  await settled();
  expect(executions.count - before).toBe(1);
  expect(sockets.map((s) => s.frames)).toEqual([0, 1, 2].map((i) => [{ id: `id-${i}`, version: 7 }]));
  sockets[0].socket.readyState = 3;
  queues[0].offer('p1', balance(8));
  await settled();
  expect(sockets[0].ended).toEqual([{ id: 'id-0', errors: undefined }]);
  expect(queues[0].closed).toBe(true);
  for (const queue of queues.slice(1)) queue.offer('p1', balance(8));
  await settled();
  expect(sockets.slice(1).map((s) => s.frames.at(-1)!.version)).toEqual([8, 8]);
  for (const queue of queues.slice(1)) queue.close();
  expect(groups.size).toBe(0);
});
