import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

// dist/ingest.js is built by `npm run build` (the collector's build runs it before tests).
test('ingestJs_Built_AtMostFiveKilobytesGzipped', () => {
  const built = readFileSync(new URL('../dist/ingest.js', import.meta.url));
  const gzipped = gzipSync(built, { level: 9 }).length;
  assert.ok(gzipped <= 5 * 1024, `ingest.js is ${gzipped} bytes gzipped`);
});
