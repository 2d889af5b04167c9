// Campaign context of a page view and the first-touch / session rules. Pure functions: no DOM, no storage.
import clickIdNames from '../../Ingest.Core/Touches/click-ids.json' with { type: 'json' };

export const CLICK_IDS = clickIdNames;
export const UTMS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'utm_id'];
export const SESSION_MS = 30 * 60 * 1000;

// Second-level labels under which registries sell names (acme.co.uk): the registrable domain has three labels there.
const SECOND_LEVEL = ['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'or', 'ne', 'go'];

/** The registrable domain of a host name (acme.example for www.acme.example), or '' for IPs, localhost and single labels. */
export function registrableDomain(host) {
  host = String(host || '').toLowerCase().replace(/\.$/, '');
  if (!host.includes('.') || /^[\d.]+$/.test(host) || host.includes(':')) return '';
  const labels = host.split('.');
  const n = labels.length > 2 && labels[labels.length - 1].length === 2 && SECOND_LEVEL.includes(labels[labels.length - 2]) ? 3 : 2;
  return labels.slice(-n).join('.');
}

function hostOf(url) {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return '';
  }
}

/** True when the referrer is a page outside the site: not the page's host and not under the site's domain. */
export function isExternal(referrer, pageHost, siteDomain) {
  const host = hostOf(referrer);
  if (!host) return false;
  pageHost = String(pageHost).toLowerCase();
  return host !== pageHost && !(siteDomain && (host === siteDomain || host.endsWith('.' + siteDomain)));
}

/**
 * What a page view tells about where the visitor came from: the landing page, an external referrer, the UTMs (names
 * matched case-insensitively, values raw) and the click ids. An internal referrer is not kept.
 */
export function campaignOf(pageUrl, referrer, siteDomain, time) {
  const touch = { landing_page: pageUrl, t: time };
  let url;
  try {
    url = new URL(pageUrl);
  } catch {
    return touch;
  }
  if (referrer && isExternal(referrer, url.hostname, siteDomain)) touch.referrer = referrer;
  const wanted = UTMS.concat(CLICK_IDS);
  url.searchParams.forEach((value, name) => {
    const key = name.toLowerCase();
    if (value && wanted.includes(key) && !(key in touch)) touch[key] = value;
  });
  return touch;
}

/** The campaign fields of a touch (UTMs and click ids), without landing page, referrer or time. */
function campaignFields(touch) {
  const fields = {};
  for (const name of UTMS.concat(CLICK_IDS)) if (touch && touch[name]) fields[name] = touch[name];
  return fields;
}

/** True when the page view brings campaign information: a UTM, a click id or an external referrer. */
export function hasCampaign(touch) {
  return !!touch.referrer || Object.keys(campaignFields(touch)).length > 0;
}

function sameCampaign(a, b) {
  return JSON.stringify(campaignFields(a)) === JSON.stringify(campaignFields(b)) && (!a.referrer || a.referrer === b.referrer);
}

/**
 * Applies one page view to the stored state {first, session, seen}. Returns the new state and whether the view is a
 * visit to report (the visitor's first page view, or one with new campaign information).
 * - first is written once, on the first page view, even when that view is direct (a later paid visit never becomes it);
 * - a session ends after 30 minutes without a page view; the next one starts from this view;
 * - within a session, new campaign information replaces the session's touch, but an internal (or, on in-app
 *   navigation, unchanged) referrer never replaces an external one.
 */
export function applyPageView(state, view) {
  const next = { first: state.first, session: state.session, seen: view.t };
  if (!state.first) {
    next.first = view;
    next.session = view;
    return { state: next, visit: true };
  }
  const expired = !state.session || !state.seen || view.t - state.seen > SESSION_MS;
  if (hasCampaign(view) && (expired || !sameCampaign(view, state.session))) {
    next.session = view.referrer || expired ? view : { ...view, referrer: state.session.referrer };
    if (!next.session.referrer) delete next.session.referrer;
    return { state: next, visit: true };
  }
  if (expired) next.session = view;
  return { state: next, visit: false };
}
