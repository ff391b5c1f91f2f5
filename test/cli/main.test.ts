import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

afterEach(() => vi.restoreAllMocks());

function capture(): { out: () => string } {
  let text = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  return { out: () => text };
}

describe('canarybot main', () => {
  it('lists validate and plan', async () => {
    const stdout = capture();

    expect(await main(['--help'])).toBe(0);
    expect(stdout.out()).toMatch(/^ {2}validate$/m);
    expect(stdout.out()).toMatch(/^ {2}plan$/m);
    expect(stdout.out()).toMatch(/^ {2}judge$/m);
  });

  it.each(['validate', 'plan', 'judge'])('runs %s --help', async (name) => {
    const stdout = capture();

    expect(await main([name, '--help'])).toBe(0);
    expect(stdout.out()).toMatch(new RegExp(`^usage: canarybot ${name}`));
  });
});
