import { describe, expect, it } from 'vitest';
import { Sec2Cipher } from '../../../src/provisioning/softap/cipher.js';
import { ClientLockouts, Lockout } from '../../../src/provisioning/softap/lockout.js';
import { HandshakeLimiter } from '../../../src/provisioning/softap/rate-limit.js';
import {
  MAX_PER_CLIENT,
  MAX_SESSIONS,
  sessionCookie,
  TransportSessions,
} from '../../../src/provisioning/softap/transport-session.js';

describe('Sec2Cipher', () => {
  const key = Buffer.alloc(64, 9);
  const id = Buffer.from('0102030405060708', 'hex');

  it('starts the counter at 1 and moves it after each encrypt and each decrypt', () => {
    const device = new Sec2Cipher(key, id);
    expect(Buffer.from(device.deviceNonce).toString('hex')).toBe('010203040506070800000001');
    const peer = new Sec2Cipher(key, id);
    const request = peer.encrypt(Buffer.from('ping'));
    expect(Buffer.from(device.decrypt(request) ?? []).toString()).toBe('ping');
    const reply = device.encrypt(Buffer.from('pong'));
    expect(Buffer.from(peer.decrypt(reply) ?? []).toString()).toBe('pong');
    // The same plaintext never gives the same ciphertext twice.
    expect(Buffer.from(peer.encrypt(Buffer.from('ping'))).equals(Buffer.from(request))).toBe(false);
  });

  it('keeps the counter when a payload does not authenticate', () => {
    const device = new Sec2Cipher(key, id);
    const peer = new Sec2Cipher(key, id);
    const sealed = peer.encrypt(Buffer.from('data'));
    const bad = Buffer.from(sealed);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0x80;
    expect(device.decrypt(bad)).toBeUndefined();
    expect(device.decrypt(Buffer.alloc(5))).toBeUndefined();
    expect(device.decrypt(sealed)).toBeDefined();
  });
});

describe('Lockout', () => {
  it('locks after the limit, doubles each lock up to the cap, and a success clears it', () => {
    let now = 0;
    const lockout = new Lockout({ maxFailures: 3, baseLockMs: 1000, maxLockMs: 3000 }, () => now);
    expect(lockout.recordFailure()).toBe(0);
    expect(lockout.recordFailure()).toBe(0);
    expect(lockout.recordFailure()).toBe(1000);
    expect(lockout.remainingMs()).toBe(1000);
    now = 1000;
    expect(lockout.remainingMs()).toBe(0);
    lockout.recordFailure();
    lockout.recordFailure();
    expect(lockout.recordFailure()).toBe(2000);
    now = 3000;
    lockout.recordFailure();
    lockout.recordFailure();
    expect(lockout.recordFailure()).toBe(3000);
    lockout.recordSuccess();
    expect(lockout.remainingMs()).toBe(0);
    expect(lockout.failures).toBe(0);
  });
});

describe('TransportSessions', () => {
  it('reads the session cookie among others', () => {
    expect(sessionCookie('session=42')).toBe(42);
    expect(sessionCookie('a=1; session=7; b=2')).toBe(7);
    expect(sessionCookie('xsession=7')).toBeUndefined();
    expect(sessionCookie(undefined)).toBeUndefined();
  });

  it('continues by cookie or connection, keeps a few per client, never forgets the protected one', () => {
    const opened: number[] = [];
    const closed: number[] = [];
    let protectedId = -1;
    const sessions = new TransportSessions<object>({
      open: (id) => opened.push(id),
      close: (id) => closed.push(id),
      isProtected: (id) => id === protectedId,
    });
    const a = {};
    const owner = '192.168.4.2';
    const first = sessions.resolve(undefined, a, owner);
    expect(first.fresh).toBe(true);
    expect(sessions.resolve(undefined, a, owner)).toEqual({ id: first.id, fresh: false });
    expect(sessions.resolve(`session=${first.id}`, {}, owner)).toEqual({ id: first.id, fresh: false });
    // Once a cookie was used the connection alone no longer continues it.
    expect(sessions.resolve(undefined, a, owner).fresh).toBe(true);
    protectedId = first.id;
    for (let i = 0; i < 10; i++) sessions.resolve(undefined, {}, owner);
    expect(closed).not.toContain(first.id);
    expect(sessions.resolve(`session=${first.id}`, {}, owner).fresh).toBe(false);
    expect(sessions.size).toBeLessThanOrEqual(MAX_PER_CLIENT);
  });

  it("refuses a session's cookie from another address and leaves the session as it was", () => {
    const closed: number[] = [];
    const sessions = new TransportSessions<object>({
      open: () => {},
      close: (id) => closed.push(id),
      isProtected: () => false,
    });
    const owner = sessions.resolve(undefined, {}, '192.168.4.2');
    expect(() => sessions.resolve(`session=${owner.id}`, {}, '192.168.4.3')).toThrow(
      expect.objectContaining({ reason: 'wrong_client', status: 403 }),
    );
    expect(sessions.resolve(`session=${owner.id}`, {}, '192.168.4.2')).toEqual({
      id: owner.id,
      fresh: false,
    });
  });

  it("a flood from one address churns only that address's sessions", () => {
    const closed: number[] = [];
    const sessions = new TransportSessions<object>({
      open: () => {},
      close: (id) => closed.push(id),
      isProtected: () => false,
    });
    const owner = sessions.resolve(undefined, {}, '192.168.4.2');
    for (let i = 0; i < 100; i++) sessions.resolve(undefined, {}, '192.168.4.66');
    expect(closed).not.toContain(owner.id);
    expect(sessions.size).toBe(1 + MAX_PER_CLIENT);
    // Many addresses together are held to the global cap; the owner's session is then the oldest.
    for (let i = 0; i < 100; i++) sessions.resolve(undefined, {}, `10.0.0.${i}`);
    expect(sessions.size).toBe(MAX_SESSIONS);
  });
});

describe('HandshakeLimiter', () => {
  it('allows a burst per client, refills over the window, and holds all clients to the global budget', () => {
    let now = 0;
    const limiter = new HandshakeLimiter(
      { perClient: { burst: 2, perMinute: 120 }, global: { burst: 3, perMinute: 180 } },
      () => now,
    );
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('a')).toEqual({ allowed: false, scope: 'client', retryAfterMs: 500, first: true });
    expect(limiter.take('a')).toMatchObject({ allowed: false, first: false });
    expect(limiter.take('b')).toEqual({ allowed: true });
    expect(limiter.take('c')).toMatchObject({ allowed: false, scope: 'global', first: true });
    now = 500;
    expect(limiter.take('a')).toEqual({ allowed: true });
    limiter.clear();
    expect(limiter.take('c')).toEqual({ allowed: true });
  });
});

describe('ClientLockouts', () => {
  it('locks the address that failed, not the others; clear() unlocks everyone', () => {
    const lockouts = new ClientLockouts({ maxFailures: 2, baseLockMs: 1000, maxLockMs: 4000 }, () => 0);
    lockouts.recordFailure('stranger');
    expect(lockouts.recordFailure('stranger')).toBe(1000);
    expect(lockouts.remainingMs('stranger')).toBe(1000);
    expect(lockouts.remainingMs('owner')).toBe(0);
    lockouts.clear();
    expect(lockouts.remainingMs('stranger')).toBe(0);
  });
});
