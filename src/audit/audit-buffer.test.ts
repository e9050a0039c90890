import { BatchBuffer, BatchBufferOptions } from './audit-buffer';

const OPTIONS: BatchBufferOptions = { maxDelayMs: 250, batchSize: 500, capacity: 50_000, retryBaseMs: 250, retryMaxMs: 10_000 };

/** A writer that records each batch, and fails while `failing` is set. */
function recordingWriter() {
  const batches: number[][] = [];
  const state = { failing: false };
  const write = jest.fn(async (items: number[]) => {
    if (state.failing) throw new Error('database down');
    batches.push(items);
  });
  return { batches, state, write };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('items wait until 250 ms after the first of them arrived, then go in one write', async () => {
  const { batches, write } = recordingWriter();
  const buffer = new BatchBuffer(write, OPTIONS);
  buffer.add([1]);
  await jest.advanceTimersByTimeAsync(100);
  buffer.add([2, 3]);
  await jest.advanceTimersByTimeAsync(149);
  expect(write).not.toHaveBeenCalled();
  await jest.advanceTimersByTimeAsync(1);
  expect(batches).toEqual([[1, 2, 3]]);
  expect(buffer.pending).toBe(0);
  // The next item starts a new 250 ms wait of its own.
  buffer.add([4]);
  await jest.advanceTimersByTimeAsync(249);
  expect(batches).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(1);
  expect(batches).toEqual([[1, 2, 3], [4]]);
});

test('500 waiting items are written at once, without waiting for the delay', async () => {
  const { batches, write } = recordingWriter();
  const buffer = new BatchBuffer(write, OPTIONS);
  buffer.add(range(0, 499));
  await jest.advanceTimersByTimeAsync(0);
  expect(write).not.toHaveBeenCalled();
  buffer.add([499]);
  await jest.advanceTimersByTimeAsync(0);
  expect(batches).toEqual([range(0, 500)]);
});

test('flush writes what waits now, after the write already in flight, and at most one write runs at a time', async () => {
  const gate = deferred();
  const batches: number[][] = [];
  let running = 0;
  let mostAtOnce = 0;
  const buffer = new BatchBuffer(async (items: number[]) => {
    running += 1;
    mostAtOnce = Math.max(mostAtOnce, running);
    if (batches.length === 0) await gate.promise;
    batches.push(items);
    running -= 1;
  }, OPTIONS);
  buffer.add([1]);
  await jest.advanceTimersByTimeAsync(250); // the first write starts and waits at the gate
  buffer.add([2]);
  let flushed = false;
  const flushing = buffer.flush().then(() => (flushed = true));
  await jest.advanceTimersByTimeAsync(0);
  expect(flushed).toBe(false);
  gate.resolve();
  await flushing;
  expect(batches).toEqual([[1], [2]]);
  expect(mostAtOnce).toBe(1);
  await expect(buffer.flush()).resolves.toBeUndefined(); // nothing waits: nothing to do
  expect(batches).toHaveLength(2);
});

test('a failed write keeps its items in order and retries with a bounded backoff', async () => {
  const { batches, state, write } = recordingWriter();
  const failures: number[] = [];
  const buffer = new BatchBuffer(write, { ...OPTIONS, retryMaxMs: 1000, onFlushFailed: (_error, _waiting, count) => failures.push(count) });
  state.failing = true;
  buffer.add([1, 2]);
  await jest.advanceTimersByTimeAsync(250); // fails; retry in 250 ms
  buffer.add([3]);
  await jest.advanceTimersByTimeAsync(250); // fails; retry in 500 ms
  await jest.advanceTimersByTimeAsync(500); // fails; retry in 1000 ms
  await jest.advanceTimersByTimeAsync(1000); // fails; retry in 1000 ms (the cap)
  expect(failures).toEqual([1, 2, 3, 4]);
  expect(buffer.pending).toBe(3);
  // While the database is down, a full batch does not hammer it: the backoff still applies.
  buffer.add(range(10, 600));
  await jest.advanceTimersByTimeAsync(999);
  expect(write).toHaveBeenCalledTimes(4);
  state.failing = false;
  await jest.advanceTimersByTimeAsync(1);
  expect(batches).toEqual([[1, 2, 3, ...range(10, 600)]]);
  // Success resets the backoff: the next item waits the usual 250 ms.
  buffer.add([7]);
  await jest.advanceTimersByTimeAsync(250);
  expect(batches[1]).toEqual([7]);
});

test('flush rejects when the write fails, and keeps the items for the next attempt', async () => {
  const { batches, state, write } = recordingWriter();
  const buffer = new BatchBuffer(write, OPTIONS);
  state.failing = true;
  buffer.add([1]);
  await expect(buffer.flush()).rejects.toThrow('database down');
  expect(buffer.pending).toBe(1);
  state.failing = false;
  await buffer.flush();
  expect(batches).toEqual([[1]]);
});

test('beyond its capacity the buffer drops the oldest items, counts them and reports them once per flush', async () => {
  const { batches, state, write } = recordingWriter();
  const reports: number[] = [];
  const buffer = new BatchBuffer(write, { ...OPTIONS, capacity: 10, onDropped: (count) => reports.push(count) });
  state.failing = true;
  buffer.add(range(0, 8));
  buffer.add(range(8, 4)); // 12 items: 0 and 1 go
  buffer.add(range(12, 3)); // 15: 2, 3 and 4 go
  expect(buffer.pending).toBe(10);
  expect(buffer.droppedTotal).toBe(5);
  expect(reports).toEqual([]);
  await jest.advanceTimersByTimeAsync(250); // the flush fails, and reports the drops once
  expect(reports).toEqual([5]);
  state.failing = false;
  await jest.advanceTimersByTimeAsync(250);
  expect(batches).toEqual([range(5, 10)]);
  expect(reports).toEqual([5]);
});

test('close writes what waits and stops the timer; items that arrive afterwards are dropped and counted', async () => {
  const { batches, write } = recordingWriter();
  const reports: number[] = [];
  const buffer = new BatchBuffer(write, { ...OPTIONS, onDropped: (count) => reports.push(count) });
  buffer.add([1, 2]);
  await buffer.close();
  expect(batches).toEqual([[1, 2]]);
  buffer.add([3]);
  await jest.advanceTimersByTimeAsync(10_000);
  expect(batches).toEqual([[1, 2]]);
  expect(buffer.droppedTotal).toBe(1);
  expect(reports).toEqual([1]);
  expect(jest.getTimerCount()).toBe(0);
});
