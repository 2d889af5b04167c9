import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uuid7 } from '../src/uuid7.js';

// 2026-12-02T09:00:00Z is 0x01a235fb6e80 ms since the epoch.
test('uuid7_KnownTimeAndZeroRandom_VersionVariantAndTime', () => {
  const id = uuid7(Date.UTC(2026, 11, 2, 9, 0, 0), (bytes) => bytes.fill(0));
  assert.equal(id, '01a235fb-6e80-7000-8000-000000000000');
});

test('uuid7_LaterTime_SortsAfter', () => {
  const random = (bytes) => bytes.fill(255);
  assert.ok(uuid7(1_000, random) < uuid7(1_001, random));
  assert.match(uuid7(1_000, random), /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
