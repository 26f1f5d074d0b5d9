import { describe, expect, it } from 'vitest';
import { ConnectionLimits, type Limited } from '../../src/rtsp/connection-limits.js';

interface Fake extends Limited {
  name: string;
  authTag: string | undefined;
  sessions: { size: number };
}

const conn = (name: string, remote: string, authed = false, sessions = 0): Fake => ({
  name,
  remote,
  authTag: authed ? 'tag' : undefined,
  sessions: { size: sessions },
});

describe('ConnectionLimits', () => {
  it('admits below both caps', () => {
    const limits = new ConnectionLimits<Fake>(3, 2);
    expect(limits.makeRoom('10.0.0.1')).toBeUndefined();
    limits.add(conn('a', '10.0.0.1'));
    expect(limits.size).toBe(1);
  });

  it('at the per-address cap, evicts that address’s oldest unauthenticated connection without sessions', () => {
    const limits = new ConnectionLimits<Fake>(10, 3);
    const [a, b, c] = [conn('a', '10.0.0.1', true), conn('b', '10.0.0.1', false, 1), conn('c', '10.0.0.1')];
    for (const x of [a, b, c]) limits.add(x);
    limits.add(conn('other', '10.0.0.2'));
    expect((limits.makeRoom('10.0.0.1') as Fake).name).toBe('c');
    expect(limits.size).toBe(3);
    limits.add(conn('d', '10.0.0.1'));
    expect((limits.makeRoom('10.0.0.1') as Fake).name).toBe('d');
  });

  it('at the total cap, evicts from the address holding the most, and refuses when nothing may go', () => {
    const limits = new ConnectionLimits<Fake>(4, 4);
    limits.add(conn('x1', '10.0.0.9'));
    limits.add(conn('n1', '10.0.0.5'));
    limits.add(conn('n2', '10.0.0.5'));
    limits.add(conn('n3', '10.0.0.5'));
    expect((limits.makeRoom('10.0.0.1') as Fake).name).toBe('n1');
    limits.add(conn('owner', '10.0.0.1', true));

    const full = new ConnectionLimits<Fake>(2, 2);
    full.add(conn('a', '10.0.0.1', true));
    full.add(conn('b', '10.0.0.2', false, 1));
    expect(full.makeRoom('10.0.0.3')).toBe(false);
    expect(full.takeCounts()).toEqual({ refused: 1, evicted: 0 });
    expect(full.takeCounts()).toEqual({ refused: 0, evicted: 0 });
  });

  it('forgets a connection once, however often it is removed', () => {
    const limits = new ConnectionLimits<Fake>(2, 1);
    const a = conn('a', '10.0.0.1');
    limits.add(a);
    limits.remove(a);
    limits.remove(a);
    expect(limits.size).toBe(0);
    expect(limits.makeRoom('10.0.0.1')).toBeUndefined();
  });
});
