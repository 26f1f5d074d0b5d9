import { describe, expect, it } from 'vitest';
import { BIND_TOKEN_TTL_MS, BindTokens } from '../../src/sim/bind-tokens.js';

describe("the simulator's bind tokens", () => {
  it('keeps at most 64 outstanding: the oldest gives way, the newest still binds', () => {
    const tokens = new BindTokens(() => 1000);
    const issued = Array.from({ length: 65 }, () => tokens.issue());
    expect(tokens.redeem(issued[0] ?? '')).toBe(false);
    expect(tokens.redeem(issued[1] ?? '')).toBe(true);
    expect(tokens.redeem(issued[64] ?? '')).toBe(true);
  });

  it('accepts a token once, before it expires', () => {
    let now = 0;
    const tokens = new BindTokens(() => now);
    const once = tokens.issue();
    const late = tokens.issue();
    expect(tokens.redeem(once)).toBe(true);
    expect(tokens.redeem(once)).toBe(false);
    now = BIND_TOKEN_TTL_MS;
    expect(tokens.redeem(late)).toBe(false);
  });
});
