import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SESSION_MS, applyPageView, campaignOf, hasCampaign, isExternal, registrableDomain } from '../src/campaign.js';

const T0 = Date.UTC(2026, 11, 2, 9, 0, 0);

test('registrableDomain_SubdomainsAndCountrySecondLevels_KeepsTheSiteName', () => {
  assert.equal(registrableDomain('www.acme.example'), 'acme.example');
  assert.equal(registrableDomain('blog.shop.acme.co.uk'), 'acme.co.uk');
  assert.equal(registrableDomain('acme.com.au'), 'acme.com.au');
  assert.equal(registrableDomain('127.0.0.1'), '');
  assert.equal(registrableDomain('localhost'), '');
});

test('isExternal_SameHostOrSiteDomain_IsInternal', () => {
  assert.equal(isExternal('https://www.acme.example/blog', 'acme.example', 'acme.example'), false);
  assert.equal(isExternal('http://127.0.0.1:8088/', '127.0.0.1', ''), false);
  assert.equal(isExternal('https://www.google.com/', 'www.acme.example', 'acme.example'), true);
  assert.equal(isExternal('', 'www.acme.example', 'acme.example'), false);
});

test('campaignOf_MixedCaseNames_MatchesNamesKeepsValuesRaw', () => {
  const touch = campaignOf('https://acme.example/?UTM_Source=Google&utm_medium=CPC&GCLID=Cj0KAbC&other=1', 'https://www.google.com/', 'acme.example', T0);
  assert.deepEqual(touch, {
    landing_page: 'https://acme.example/?UTM_Source=Google&utm_medium=CPC&GCLID=Cj0KAbC&other=1',
    t: T0,
    referrer: 'https://www.google.com/',
    utm_source: 'Google',
    utm_medium: 'CPC',
    gclid: 'Cj0KAbC',
  });
});

test('campaignOf_InternalReferrer_IsNotKept', () => {
  const touch = campaignOf('https://acme.example/contact', 'https://acme.example/blog', 'acme.example', T0);
  assert.equal(touch.referrer, undefined);
  assert.equal(hasCampaign(touch), false);
});

test('applyPageView_FirstViewDirect_FirstTouchIsDirectAndAVisit', () => {
  const view = campaignOf('https://acme.example/', '', 'acme.example', T0);
  const { state, visit } = applyPageView({}, view);
  assert.equal(visit, true);
  assert.equal(state.first, view);
  assert.equal(state.session, view);
});

test('applyPageView_LaterPaidVisit_ReplacesSessionNeverFirst', () => {
  const direct = campaignOf('https://acme.example/', '', 'acme.example', T0);
  const paid = campaignOf('https://acme.example/?utm_source=google&utm_medium=cpc', '', 'acme.example', T0 + 60_000);
  let { state } = applyPageView({}, direct);
  const result = applyPageView(state, paid);
  assert.equal(result.visit, true);
  assert.equal(result.state.first, direct);
  assert.equal(result.state.session.utm_source, 'google');
});

test('applyPageView_InternalPagesWithoutCampaign_NoVisitSessionKept', () => {
  const landing = campaignOf('https://acme.example/?utm_source=google', 'https://www.google.com/', 'acme.example', T0);
  let { state } = applyPageView({}, landing);
  const blog = campaignOf('https://acme.example/blog', 'https://acme.example/?utm_source=google', 'acme.example', T0 + 1000);
  const result = applyPageView(state, blog);
  assert.equal(result.visit, false);
  assert.equal(result.state.session, landing);
  assert.equal(result.state.seen, T0 + 1000);
});

test('applyPageView_NewUtmsWithInternalReferrer_KeepsExternalReferrer', () => {
  const landing = campaignOf('https://acme.example/', 'https://news.example.org/story', 'acme.example', T0);
  let { state } = applyPageView({}, landing);
  const spa = campaignOf('https://acme.example/pricing?utm_source=newsletter&utm_medium=email', '', 'acme.example', T0 + 5000);
  const result = applyPageView(state, spa);
  assert.equal(result.visit, true);
  assert.equal(result.state.session.utm_source, 'newsletter');
  assert.equal(result.state.session.referrer, 'https://news.example.org/story');
});

test('applyPageView_SameCampaignReloaded_NoSecondVisit', () => {
  const landing = campaignOf('https://acme.example/?utm_source=google', 'https://www.google.com/', 'acme.example', T0);
  let { state } = applyPageView({}, landing);
  const again = campaignOf('https://acme.example/?utm_source=google', 'https://www.google.com/', 'acme.example', T0 + 2000);
  assert.equal(applyPageView(state, again).visit, false);
});

test('applyPageView_AfterThirtyMinutesIdleDirect_NewSessionWithoutVisit', () => {
  const landing = campaignOf('https://acme.example/?utm_source=google', '', 'acme.example', T0);
  let { state } = applyPageView({}, landing);
  const later = campaignOf('https://acme.example/blog', '', 'acme.example', T0 + SESSION_MS + 1);
  const result = applyPageView(state, later);
  assert.equal(result.visit, false);
  assert.equal(result.state.session, later);
  assert.equal(result.state.first, landing);
});

test('applyPageView_SameCampaignInANewSession_IsAVisit', () => {
  const landing = campaignOf('https://acme.example/?utm_source=google', '', 'acme.example', T0);
  let { state } = applyPageView({}, landing);
  const again = campaignOf('https://acme.example/?utm_source=google', '', 'acme.example', T0 + SESSION_MS + 1);
  assert.equal(applyPageView(state, again).visit, true);
});
