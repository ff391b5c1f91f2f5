import { describe, expect, it } from 'vitest';
import type { EnvironmentSpec } from '../core/definition.js';
import { deploymentEnvironment, type DeploymentEnvironment } from './deployment-environment.js';

describe('deploymentEnvironment', () => {
  it.each<[string, EnvironmentSpec | undefined, string, DeploymentEnvironment]>([
    ['no spec, plain namespace: default name, no tier', undefined, 'bookinfo', { name: 'eu/bookinfo/reviews' }],
    ['payments-prod', undefined, 'payments-prod', { name: 'eu/payments-prod/reviews', tier: 'production' }],
    ['prod', undefined, 'prod', { name: 'eu/prod/reviews', tier: 'production' }],
    ['production-payments', undefined, 'production-payments', { name: 'eu/production-payments/reviews', tier: 'production' }],
    ['shop.live', undefined, 'shop.live', { name: 'eu/shop.live/reviews', tier: 'production' }],
    ['prod_eu', undefined, 'prod_eu', { name: 'eu/prod_eu/reviews', tier: 'production' }],
    ['product is not prod', undefined, 'product', { name: 'eu/product/reviews' }],
    ['preprod is not prod', undefined, 'preprod', { name: 'eu/preprod/reviews' }],
    ['delivery is not live', undefined, 'delivery', { name: 'eu/delivery/reviews' }],
    ['explicit tier wins over the namespace', { tier: 'staging' }, 'payments-prod', { name: 'eu/payments-prod/reviews', tier: 'staging' }],
    ['explicit tier on a plain namespace', { tier: 'testing' }, 'bookinfo', { name: 'eu/bookinfo/reviews', tier: 'testing' }],
    ['explicit name keeps the default tier', { name: 'payments' }, 'payments-prod', { name: 'payments', tier: 'production' }],
    ['explicit name, no tier', { name: 'review apps' }, 'bookinfo', { name: 'review apps' }],
    ['both explicit', { name: 'shop', tier: 'other' }, 'bookinfo', { name: 'shop', tier: 'other' }],
    ['a name per cluster', { name: 'production/{{ cluster }}' }, 'payments-prod', { name: 'production/eu', tier: 'production' }],
    ['every placeholder', { name: '{{ service }} in {{ namespace }} on {{ cluster }}', tier: 'staging' }, 'bookinfo', { name: 'reviews in bookinfo on eu', tier: 'staging' }],
  ])('%s', (_name, spec, namespace, expected) => {
    expect(deploymentEnvironment(spec, { cluster: 'eu', namespace, service: 'reviews' })).toEqual(expected);
  });
});
