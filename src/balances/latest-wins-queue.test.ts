import { LatestWinsQueue } from './latest-wins-queue';

type Item = { key: string; n: number };

function queue() {
  const closed = jest.fn();
  const q = new LatestWinsQueue<Item>(closed);
  const offer = (key: string, n: number) => q.offer(key, { key, n });
  const take = async () => ((await q.next()) as IteratorYieldResult<Item>).value;
  return { q, closed, offer, take };
}

/** Whether the promise has settled once pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('LatestWinsQueue', () => {
  test('a reader that keeps up gets every value, in order', async () => {
    const { offer, take } = queue();
    offer('a', 1);
    expect(await take()).toEqual({ key: 'a', n: 1 });
    offer('a', 2);
    offer('b', 1);
    expect(await take()).toEqual({ key: 'a', n: 2 });
    expect(await take()).toEqual({ key: 'b', n: 1 });
  });

  test('a waiting reader is handed the next value at once', async () => {
    const { offer, take } = queue();
    const pending = take();
    expect(await settled(pending)).toBe(false);
    offer('a', 7);
    expect(await pending).toEqual({ key: 'a', n: 7 });
  });

  test('a slow reader gets only the newest value per key: latest wins, memory is bounded by the keys', async () => {
    const { offer, take, q } = queue();
    for (let n = 1; n <= 1000; n++) offer('a', n);
    for (let n = 1; n <= 3; n++) offer('b', n);
    expect(await take()).toEqual({ key: 'a', n: 1000 });
    expect(await take()).toEqual({ key: 'b', n: 3 });
    // Nothing else was kept.
    expect(await settled(q.next())).toBe(false);
  });

  test('keys come out in the order they first had news, so a key updated often cannot starve the others', async () => {
    const { offer, take } = queue();
    offer('a', 1);
    offer('b', 1);
    // Two busy keys, both updated between every read, 'b' always last: every key must still come out in turn.
    const taken: string[] = [];
    for (let round = 2; round < 8; round++) {
      const item = await take();
      taken.push(`${item.key}${item.n}`);
      offer('a', round);
      offer('b', round);
    }
    expect(taken.filter((t) => t.startsWith('b')).length).toBeGreaterThanOrEqual(3);
    expect(taken).toEqual(['a1', 'b2', 'a3', 'b4', 'a5', 'b6']);
  });

  test('several readers waiting at once are each served, and all are released on close', async () => {
    const { offer, q, closed } = queue();
    const first = q.next();
    const second = q.next();
    const third = q.next();
    offer('a', 1);
    offer('b', 1);
    expect(await first).toEqual({ value: { key: 'a', n: 1 }, done: false });
    expect(await second).toEqual({ value: { key: 'b', n: 1 }, done: false });
    expect(await settled(third)).toBe(false);
    q.close();
    expect(await third).toEqual({ value: undefined, done: true });
    expect(closed).toHaveBeenCalledTimes(1);
  }, 2_000);

  test('return() ends the stream: pending values are dropped, later offers ignored, onClose called once', async () => {
    const { offer, q, closed } = queue();
    offer('a', 1);
    expect(await q.return()).toEqual({ value: undefined, done: true });
    offer('a', 2);
    expect(await q.next()).toEqual({ value: undefined, done: true });
    q.close();
    await q.return();
    expect(closed).toHaveBeenCalledTimes(1);
  });

  test('throw() ends the stream and rejects with the error', async () => {
    const { q, closed } = queue();
    const waiting = q.next();
    await expect(q.throw(new Error('boom'))).rejects.toThrow('boom');
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(closed).toHaveBeenCalledTimes(1);
  });

  test('works with for await, and breaking out of the loop closes it', async () => {
    const { offer, q, closed } = queue();
    offer('a', 1);
    offer('b', 2);
    const seen: number[] = [];
    for await (const item of q) {
      seen.push(item.n);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([1, 2]);
    expect(closed).toHaveBeenCalledTimes(1);
  });
});
