import { KeyedQueue } from './keyed-queue';

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('tasks of one key run one at a time, in order, even when some fail', async () => {
  const queue = new KeyedQueue();
  const events: string[] = [];
  let running = 0;
  const task = (name: string, fail = false) => async () => {
    running += 1;
    expect(running).toBe(1);
    events.push(`start ${name}`);
    await tick();
    events.push(`end ${name}`);
    running -= 1;
    if (fail) throw new Error(name);
    return name;
  };
  const results = await Promise.allSettled([queue.run('p', task('a')), queue.run('p', task('b', true)), queue.run('p', task('c'))]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
});

test('different keys run side by side', async () => {
  const queue = new KeyedQueue();
  let release: () => void = () => undefined;
  const blocked = queue.run('p1', () => new Promise<void>((resolve) => (release = resolve)));
  await expect(queue.run('p2', async () => 'done')).resolves.toBe('done');
  release();
  await blocked;
});
