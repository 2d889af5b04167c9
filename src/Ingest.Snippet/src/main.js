// ingest.js: keeps a visitor's anonymous id, first touch and session touch in first-party storage, reports `visit`
// touches, fills forms' hidden fields and exposes window.ingest. Every entry point is wrapped so nothing ever throws
// into the page.
import { CLICK_IDS, UTMS, applyPageView, campaignOf, registrableDomain } from './campaign.js';
import { createStore } from './store.js';
import * as outbox from './outbox.js';
import { uuid7 } from './uuid7.js';

const ID = '_ingest_id';
const CONTEXT = '_ingest';
const OUTBOX = '_ingest_outbox';
const FIELDS = ['landing_page', 'referrer'].concat(UTMS, CLICK_IDS);
const IDENTITIES = ['email', 'phone', 'external_id'];

const guard = (fn) =>
  function () {
    try {
      return fn.apply(this, arguments);
    } catch {
      // The snippet must never break the page it runs on.
    }
  };

guard(() => {
  const w = window;
  const d = document;
  const script = d.currentScript || d.querySelector('script[data-write-key]');
  if (!script || w.__ingestLoaded) return;
  w.__ingestLoaded = true;

  const data = script.dataset;
  const endpoint = (data.endpoint || new URL(script.src, location.href).origin).replace(/\/+$/, '');
  const touchUrl = endpoint + '/v1/browser/touches?write_key=' + encodeURIComponent(data.writeKey || '');
  const domain = data.cookieDomain ?? registrableDomain(location.hostname);
  const requireConsent = data.requireConsent !== undefined && data.requireConsent !== 'false';
  const gpc = navigator.globalPrivacyControl === true;
  const random = (bytes) => crypto.getRandomValues(bytes);
  const storage = (() => {
    try {
      return w.localStorage;
    } catch {
      return null;
    }
  })();

  let store = null;
  let id = null;
  let state = {};
  let consent = null;
  let held = [];

  // Reading is not storing: a grant remembered from an earlier page lets this page start at once.
  const remembered = createStore(d, storage, domain, false).getJson(CONTEXT, true);
  if (!requireConsent) consent = { analytics: true, ads: !gpc };
  else if (remembered && remembered.consent && remembered.consent.analytics) consent = remembered.consent;

  function begin() {
    store = createStore(d, storage, domain, location.protocol === 'https:');
    id = store.get(ID);
    if (!id) {
      id = uuid7(Date.now(), random);
      store.set(ID, id);
    }
    state = store.getJson(CONTEXT) || {};
    flush();
  }

  function save() {
    store.setJson(CONTEXT, { first: state.first, session: state.session, seen: state.seen, consent });
  }

  // Runs now when consent allows, else later on grant (in order, with the original times), or never on denial.
  function whenAllowed(action) {
    if (store) action();
    else if (!consent) held.push(action);
  }

  function pageView(inApp) {
    // On in-app navigation document.referrer is the page's original referrer, not new information.
    const view = campaignOf(location.href, inApp ? '' : d.referrer, domain, Date.now());
    whenAllowed(() => {
      const result = applyPageView(state, view);
      const newSession = !state.session || result.state.session !== state.session;
      state = result.state;
      save();
      if (result.visit) send(touch('visit', {}, view.t, view.landing_page));
      if (newSession) serverId();
    });
  }

  function touch(kind, fields, time, pageUrl) {
    const session = state.session || {};
    const body = {
      event_id: uuid7(Date.now(), random),
      kind,
      occurred_at: new Date(time || Date.now()).toISOString(),
      anonymous_id: id,
      page_url: pageUrl || location.href,
      consent,
    };
    for (const name of FIELDS.slice(1)) if (session[name]) body[name] = session[name];
    for (const name of IDENTITIES) if (fields[name]) body[name] = String(fields[name]);
    body.properties = Object.assign({ landing_page: session.landing_page }, fields.properties);
    return body;
  }

  function queue() {
    return outbox.parse(store.readStorage(OUTBOX));
  }

  function send(body) {
    store.writeStorage(OUTBOX, JSON.stringify(outbox.enqueue(queue(), body)));
    post(body);
  }

  function settle(eventId) {
    store.writeStorage(OUTBOX, JSON.stringify(outbox.remove(queue(), eventId)));
  }

  // fetch (keepalive) while the page is visible: its answer tells whether the touch is settled. A hidden page may be
  // going away, so the beacon, which the browser delivers after unload. Unsettled touches wait in the outbox.
  function post(body) {
    if (navigator.onLine === false) return;
    const text = JSON.stringify(body);
    if (d.visibilityState === 'hidden' && navigator.sendBeacon) {
      if (navigator.sendBeacon(touchUrl, text)) settle(body.event_id);
      return;
    }
    fetch(touchUrl, { method: 'POST', body: text, keepalive: true, credentials: 'omit' }).then(
      (answer) => outbox.settled(answer.status) && settle(body.event_id),
      () => {},
    );
  }

  function flush() {
    if (store) queue().forEach(post);
  }

  // A collector on a subdomain of the site sets the id cookie itself: server-set cookies escape Safari's 7-day cap.
  function serverId() {
    const host = new URL(endpoint).hostname;
    if (!domain || registrableDomain(host) !== domain) return;
    fetch(endpoint + '/v1/id', { method: 'POST', body: JSON.stringify({ anonymous_id: id }), credentials: 'include' }).then(() => {}, () => {});
  }

  function setConsent(choice) {
    const analytics = choice.analytics === undefined ? !!(consent && consent.analytics) : !!choice.analytics;
    const ads = choice.ads === undefined ? !gpc && analytics : !!choice.ads;
    consent = { analytics, ads };
    if (!analytics) {
      held = [];
      if (store) save();
      store = null;
      return;
    }
    if (!store) begin();
    save();
    const actions = held;
    held = [];
    actions.forEach((action) => action());
  }

  function fill(form, formData) {
    if (!store || !form || !form.elements) return;
    for (const input of Array.from(form.elements)) {
      if (input.type !== 'hidden' || !input.name || input.value) continue;
      const spec = (input.getAttribute('data-ingest') || '').split('.');
      const source = spec[0] === 'first' ? state.first : state.session;
      const name = spec.length === 2 ? spec[1] : input.name;
      const value = name === 'anonymous_id' ? id : FIELDS.includes(name) && source && source[name];
      if (value) {
        input.value = value;
        if (formData) formData.set(input.name, value);
      }
    }
  }

  function command(name, fields) {
    fields = fields || {};
    if (name === 'consent') setConsent(fields);
    else if (name === 'touch') whenAllowed(() => send(touch(String(fields.kind || 'form'), fields)));
    else if (name === 'identify') whenAllowed(() => send(touch('visit', fields)));
  }

  // Capture phase on the document: forms added later are covered, and fields are filled before a page's own submit
  // handler reads them (forms posted with fetch).
  d.addEventListener('submit', guard((e) => fill(e.target)), true);
  d.addEventListener('formdata', guard((e) => fill(e.target, e.formData)), true);
  w.addEventListener('online', guard(flush));
  w.addEventListener('popstate', guard(() => pageView(true)));
  for (const method of ['pushState', 'replaceState']) {
    const original = history[method];
    history[method] = function () {
      const result = original.apply(this, arguments);
      guard(pageView)(true);
      return result;
    };
  }

  if (consent) begin();
  pageView(false);

  const early = w.ingest;
  const api = guard(command);
  api.push = (args) => api.apply(null, args);
  w.ingest = api;
  (Array.isArray(early) ? early : (early && early.q) || []).forEach((args) => api.apply(null, args));
})();
