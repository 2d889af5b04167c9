import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OUTBOX_LIMIT, enqueue, parse, remove, settled } from '../src/outbox.js';

test('enqueue_SameEventIdTwice_KeptOnce', () => {
  const queue = enqueue(enqueue([], { event_id: 'a', n: 1 }), { event_id: 'a', n: 2 });
  assert.deepEqual(queue, [{ event_id: 'a', n: 2 }]);
});

test('enqueue_BeyondTheLimit_DropsTheOldest', () => {
  let queue = [];
  for (let i = 0; i < OUTBOX_LIMIT + 3; i++) queue = enqueue(queue, { event_id: 'e' + i });
  assert.equal(queue.length, 20);
  assert.equal(queue[0].event_id, 'e3');
});

test('remove_KnownEventId_LeavesTheOthers', () => {
  assert.deepEqual(remove([{ event_id: 'a' }, { event_id: 'b' }], 'a'), [{ event_id: 'b' }]);
});

test('parse_Garbage_IsAnEmptyQueue', () => {
  assert.deepEqual(parse('{not json'), []);
  assert.deepEqual(parse('{"event_id":"a"}'), []);
  assert.deepEqual(parse('[{"event_id":"a"},null,{"x":1}]'), [{ event_id: 'a' }]);
});

test('settled_RetryableAnswers_StayQueued', () => {
  assert.equal(settled(202), true);
  assert.equal(settled(422), true);
  assert.equal(settled(429), false);
  assert.equal(settled(503), false);
  assert.equal(settled(0), false);
});
