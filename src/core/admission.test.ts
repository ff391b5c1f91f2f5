import { describe, expect, it } from 'vitest';
import { FRONT_OF_LINE, isLimited, planAdmission, supersederPlace, type AdmissionLimits, type Contender, type Standing } from './admission.js';

const LIMITS: AdmissionLimits = { namespaces: { bookinfo: 2, shop: 1 }, tenants: { retail: 2 } };

/** `reviews@bookinfo`, `cart@shop/retail`: service, namespace and tenant in one word. */
function c(spec: string): Contender {
  const [service, rest] = spec.split('@') as [string, string];
  const [namespace, tenant] = rest.split('/') as [string, string | undefined];
  return { id: `${service}-1`, service, namespace, tenant: tenant ?? null };
}

const rows: { name: string; running: string[]; queue: string[]; start: string[]; waiting: Record<string, string> }[] = [
  { name: 'nothing running: the first two of a namespace start, the third waits naming both', running: [], queue: ['reviews@bookinfo', 'ratings@bookinfo', 'details@bookinfo'], start: ['reviews-1', 'ratings-1'],
    waiting: { 'details-1': 'Waiting for a free release slot: namespace bookinfo allows 2 releases at once and reviews (reviews-1), ratings (ratings-1) are running. It starts on its own when one ends.' } },
  { name: 'a full namespace: every queued release waits, the later ones also behind the earlier', running: ['reviews@bookinfo', 'ratings@bookinfo'], queue: ['details@bookinfo', 'productpage@bookinfo'], start: [],
    waiting: {
      'details-1': 'Waiting for a free release slot: namespace bookinfo allows 2 releases at once and reviews (reviews-1), ratings (ratings-1) are running. It starts on its own when one ends.',
      'productpage-1': 'Waiting for a free release slot: namespace bookinfo allows 2 releases at once and reviews (reviews-1), ratings (ratings-1) are running; queued before it: details (details-1). It starts on its own when one ends.',
    } },
  { name: 'a slot frees: the earliest queued release takes it (arrival order)', running: ['reviews@bookinfo'], queue: ['details@bookinfo', 'productpage@bookinfo'], start: ['details-1'],
    waiting: { 'productpage-1': 'Waiting for a free release slot: namespace bookinfo allows 2 releases at once and reviews (reviews-1), details (details-1) are running. It starts on its own when one ends.' } },
  { name: 'namespaces without a limit never wait', running: ['a@free', 'b@free'], queue: ['c@free'], start: ['c-1'], waiting: {} },
  { name: 'a tenant limit spans its namespaces', running: ['cart@shop/retail', 'search@web/retail'], queue: ['checkout@pay/retail'], start: [],
    waiting: { 'checkout-1': 'Waiting for a free release slot: tenant retail allows 2 releases at once and cart (cart-1), search (search-1) are running. It starts on its own when one ends.' } },
  { name: 'a full namespace does not hold up the tenant\'s other namespaces', running: ['cart@shop/retail'], queue: ['basket@shop/retail', 'search@web/retail'], start: ['search-1'],
    waiting: { 'basket-1': 'Waiting for a free release slot: namespace shop allows 1 release at once and cart (cart-1) is running. It starts on its own when one ends.' } },
  { name: 'both limits full: the sentence names both', running: ['cart@shop/retail', 'search@web/retail'], queue: ['basket@shop/retail'], start: [],
    waiting: { 'basket-1': 'Waiting for a free release slot: namespace shop allows 1 release at once and cart (cart-1) is running; tenant retail allows 2 releases at once and cart (cart-1), search (search-1) are running. It starts on its own when one ends.' } },
  { name: 'releases running in other namespaces do not count', running: ['x@other', 'y@other', 'z@other'], queue: ['reviews@bookinfo'], start: ['reviews-1'], waiting: {} },
];

describe('planAdmission', () => {
  it.each(rows)('$name', ({ running, queue, start, waiting }) => {
    const plan = planAdmission(LIMITS, running.map(c), queue.map(c));

    expect(plan.start).toEqual(start);
    expect(Object.fromEntries(plan.waiting.map((w) => [w.id, w.sentence]))).toEqual(waiting);
  });

  it('names the releases each waiting one waits for', () => {
    const plan = planAdmission(LIMITS, ['reviews@bookinfo', 'ratings@bookinfo', 'x@other'].map(c), ['details@bookinfo', 'productpage@bookinfo'].map(c));

    expect(plan.waiting.map((w) => [w.id, w.blockers])).toEqual([
      ['details-1', ['reviews-1', 'ratings-1']],
      ['productpage-1', ['reviews-1', 'ratings-1', 'details-1']],
    ]);
  });

  it('a queue of 6 drained one ending at a time: never over a limit, each scope in arrival order, all started', () => {
    let queue = ['a@bookinfo', 'b@shop/retail', 'c@bookinfo', 'd@web/retail', 'e@bookinfo', 'f@shop/retail', 'g@bookinfo'].map(c);
    let running: Contender[] = [];
    const order: string[] = [];
    for (let round = 0; round < 20 && (queue.length > 0 || running.length > 0); round++) {
      const plan = planAdmission(LIMITS, running, queue);
      running = [...running, ...queue.filter((q) => plan.start.includes(q.id))];
      order.push(...plan.start);
      queue = queue.filter((q) => !plan.start.includes(q.id));
      expect(running.filter((q) => q.namespace === 'bookinfo').length).toBeLessThanOrEqual(2);
      expect(running.filter((q) => q.namespace === 'shop').length).toBeLessThanOrEqual(1);
      expect(running.filter((q) => q.tenant === 'retail').length).toBeLessThanOrEqual(2);
      running = running.slice(1);
    }

    expect(order).toEqual(['a-1', 'b-1', 'c-1', 'd-1', 'e-1', 'f-1', 'g-1']);
  });

  it.each([
    [{ namespace: 'bookinfo', tenant: null }, true],
    [{ namespace: 'web', tenant: 'retail' }, true],
    [{ namespace: 'web', tenant: null }, false],
    [{ namespace: 'web', tenant: 'other' }, false],
  ])('isLimited(%j) is %s', (contender, limited) => {
    expect(isLimited(LIMITS, contender)).toBe(limited);
  });
});

const placeRows: { name: string; superseded: Standing; carried: number | null; place: number | null }[] = [
  { name: 'a release waiting in line hands on its place', superseded: { waiting: true, place: 7, admitted: false }, carried: null, place: 7 },
  { name: 'its own place wins over one carried by an earlier newer image', superseded: { waiting: true, place: 7, admitted: false }, carried: 3, place: 7 },
  { name: 'a release that won a slot but has not started hands on the front', superseded: { waiting: true, place: null, admitted: true }, carried: null, place: FRONT_OF_LINE },
  { name: 'a waiting release no longer in line keeps the place an earlier newer image carried', superseded: { waiting: true, place: null, admitted: false }, carried: 3, place: 3 },
  { name: 'a running release hands on no place: the newer one queues by arrival', superseded: { waiting: false, place: null, admitted: true }, carried: null, place: null },
  { name: 'a running release keeps a carried place (it was admitted after the earlier newer image arrived)', superseded: { waiting: false, place: null, admitted: false }, carried: 3, place: 3 },
];

describe('supersederPlace', () => {
  it.each(placeRows)('$name', ({ superseded, carried, place }) => {
    expect(supersederPlace(superseded, carried)).toBe(place);
  });
});
