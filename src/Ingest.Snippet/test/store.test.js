import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore } from '../src/store.js';

// A document whose cookie property behaves like a browser's (name=value pairs, attributes dropped).
function fakeDocument() {
  const jar = new Map();
  return {
    writes: [],
    get cookie() {
      return Array.from(jar, ([k, v]) => k + '=' + v).join('; ');
    },
    set cookie(text) {
      this.writes.push(text);
      const [pair] = text.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    },
    clear() {
      jar.clear();
    },
  };
}

function fakeStorage() {
  const items = new Map();
  return { getItem: (k) => (items.has(k) ? items.get(k) : null), setItem: (k, v) => items.set(k, String(v)), clear: () => items.clear() };
}

test('get_CookieCleared_RestoredFromStorage', () => {
  const doc = fakeDocument();
  const storage = fakeStorage();
  createStore(doc, storage, 'acme.example', true).set('_ingest_id', 'id-1');
  doc.clear();
  const store = createStore(doc, storage, 'acme.example', true);
  assert.equal(store.get('_ingest_id'), 'id-1');
  assert.match(doc.cookie, /_ingest_id=id-1/);
});

test('get_StorageCleared_RestoredFromCookie', () => {
  const doc = fakeDocument();
  const storage = fakeStorage();
  createStore(doc, storage, '', false).set('_ingest_id', 'id-2');
  storage.clear();
  assert.equal(createStore(doc, storage, '', false).get('_ingest_id'), 'id-2');
  assert.equal(storage.getItem('_ingest_id'), 'id-2');
});

test('set_WithDomainOnHttps_CookieOnRegistrableDomainSecureLax', () => {
  const doc = fakeDocument();
  createStore(doc, fakeStorage(), 'acme.example', true).set('_ingest_id', 'x');
  assert.equal(doc.writes[0], '_ingest_id=x; Max-Age=34560000; Path=/; SameSite=Lax; Domain=acme.example; Secure');
});

test('peek_BothCopiesMissingOne_WritesNothing', () => {
  const doc = fakeDocument();
  const storage = fakeStorage();
  storage.setItem('_ingest', '{"consent":{"analytics":true}}');
  const store = createStore(doc, storage, '', false);
  assert.deepEqual(store.getJson('_ingest', true), { consent: { analytics: true } });
  assert.equal(doc.writes.length, 0);
});

test('get_StorageThrows_CookieStillServes', () => {
  const doc = fakeDocument();
  const broken = { getItem: () => { throw new Error('blocked'); }, setItem: () => { throw new Error('blocked'); } };
  const store = createStore(doc, broken, '', false);
  store.set('_ingest_id', 'id-3');
  assert.equal(store.get('_ingest_id'), 'id-3');
});
