import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SoapFault } from '../../src/onvif/soap.js';
import { type Rig, rig } from './events-fixture.js';

const MOTION_ALARM = 'tns1:VideoSource/MotionAlarm';
const CELL_MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';

describe('ONVIF events: pull points through handle()', () => {
  let r: Rig;
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 11, 6, 4, 0, 0) });
    r = rig();
  });
  afterEach(async () => {
    await r.events.stop();
    vi.useRealTimers();
  });

  it('describes the motion topics in GetEventProperties', async () => {
    const reply = await r.call('/onvif/events_service', 'GetEventProperties');
    expect(reply.body).toContain('<tns1:VideoSource wstop:topic="false"><MotionAlarm wstop:topic="true">');
    expect(reply.body).toContain('<Motion wstop:topic="true">');
    expect(reply.body).toContain('<tt:SimpleItemDescription Name="State" Type="xsd:boolean"/>');
    expect(reply.body).toContain('<tt:SimpleItemDescription Name="IsMotion" Type="xsd:boolean"/>');
    expect(reply.namespaces).toMatchObject({ wstop: 'http://docs.oasis-open.org/wsn/t-1' });
    const caps = await r.call('/onvif/events_service', 'GetServiceCapabilities');
    expect(caps.body).toContain('WSPullPointSupport="true"');
    expect(caps.body).toContain('MaxPullPoints="5"');
  });

  it('starts a subscription with the present state as Initialized, then reports motion start and end as Changed', async () => {
    const path = await r.subscribe('PT60S');
    expect(path).toMatch(/^\/onvif\/subscription\/[0-9a-f]{16}$/);
    const initial = await r.pull(path);
    expect(initial.map((m) => [m.topic, m.operation, m.data])).toEqual([
      [MOTION_ALARM, 'Initialized', { State: 'false' }],
      [CELL_MOTION, 'Initialized', { IsMotion: 'false' }],
    ]);
    expect(initial[0]?.source).toEqual({ Source: 'video0' });
    expect(initial[1]?.source.VideoSourceConfigurationToken).toBe('vsc0');
    expect(Object.keys(initial[1]?.source ?? {})).toEqual([
      'VideoSourceConfigurationToken',
      'VideoAnalyticsConfigurationToken',
      'Rule',
    ]);

    r.motion('start');
    const started = await r.pull(path);
    expect(started.map((m) => [m.topic, m.operation, m.data])).toEqual([
      [MOTION_ALARM, 'Changed', { State: 'true' }],
      [CELL_MOTION, 'Changed', { IsMotion: 'true' }],
    ]);
    expect(started[0]?.utcTime).toBe('2026-12-06T04:00:00Z');
    r.motion('end');
    expect((await r.pull(path)).map((m) => m.data)).toEqual([{ State: 'false' }, { IsMotion: 'false' }]);
    // Nothing more: an empty answer at once with Timeout PT0S.
    expect(await r.pull(path)).toEqual([]);
  });

  it('reports motion while any of overlapping alarms is open', async () => {
    const path = await r.subscribe();
    await r.pull(path);
    r.motion('start', 'a');
    r.motion('start', 'b');
    r.motion('end', 'a');
    expect((await r.pull(path)).map((m) => m.data)).toEqual([{ State: 'true' }, { IsMotion: 'true' }]);
    r.motion('end', 'b');
    expect((await r.pull(path)).map((m) => m.data)).toEqual([{ State: 'false' }, { IsMotion: 'false' }]);
  });

  it('answers a waiting PullMessages as soon as an alarm starts', async () => {
    const path = await r.subscribe();
    await r.pull(path);
    const waiting = r.pull(path, 'PT30S');
    let answered = false;
    void waiting.then(() => {
      answered = true;
    });
    await vi.advanceTimersByTimeAsync(5000);
    expect(answered).toBe(false);
    r.motion('start');
    const messages = await waiting;
    expect(messages.map((m) => m.data)).toEqual([{ State: 'true' }, { IsMotion: 'true' }]);
  });

  it('answers a PullMessages with nothing at its timeout, capped at 60 s', async () => {
    const path = await r.subscribe('PT1H');
    await r.pull(path);
    const waiting = r.pull(path, 'PT10M');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await waiting).toEqual([]);
  });

  it('gives at most MessageLimit messages per pull and keeps the rest', async () => {
    const path = await r.subscribe();
    const first = await r.pull(path, 'PT0S', '1');
    expect(first.map((m) => m.topic)).toEqual([MOTION_ALARM]);
    expect((await r.pull(path, 'PT0S', '5')).map((m) => m.topic)).toEqual([CELL_MOTION]);
  });

  it('keeps a bounded queue for a client that does not pull: the oldest messages go', async () => {
    await r.events.stop();
    r = rig({ maxQueuedMessages: 4 });
    const path = await r.subscribe();
    for (let i = 0; i < 10; i += 1) r.motion(i % 2 === 0 ? 'start' : 'end');
    const messages = await r.pull(path, 'PT0S', '100');
    expect(messages.map((m) => m.data)).toEqual([
      { State: 'true' },
      { IsMotion: 'true' },
      { State: 'false' },
      { IsMotion: 'false' },
    ]);
    expect(
      r.log.records().some((l) => l.msg === 'onvif pull point queue full: oldest messages dropped'),
    ).toBe(true);
  });

  it('sends the present state again on SetSynchronizationPoint', async () => {
    const path = await r.subscribe();
    await r.pull(path);
    r.motion('start');
    await r.pull(path);
    await r.call(path, 'SetSynchronizationPoint');
    expect((await r.pull(path)).map((m) => [m.operation, m.data])).toEqual([
      ['Initialized', { State: 'true' }],
      ['Initialized', { IsMotion: 'true' }],
    ]);
  });

  it('expires a subscription at its termination time; Renew and pulls move it', async () => {
    const path = await r.subscribe('PT10S');
    await vi.advanceTimersByTimeAsync(8000);
    const renewed = await r.call(path, 'Renew', { TerminationTime: 'PT20S' });
    expect(renewed.body).toContain('<wsnt:TerminationTime>2026-12-06T04:00:28Z</wsnt:TerminationTime>');
    await vi.advanceTimersByTimeAsync(19_000);
    expect(r.events.subscriptionCount).toBe(1);
    // A pull moves the end by the lifetime asked for at creation (10 s).
    const pulled = await r.call(path, 'PullMessages', { Timeout: 'PT0S', MessageLimit: '1' });
    expect(pulled.body).toContain('<tev:TerminationTime>2026-12-06T04:00:37Z</tev:TerminationTime>');
    await vi.advanceTimersByTimeAsync(10_001);
    expect(r.events.subscriptionCount).toBe(0);
    await expect(r.pull(path)).rejects.toMatchObject({ code: 'Sender', subcode: 'ter:InvalidArgVal' });
    expect(r.log.records().some((l) => l.msg === 'onvif pull point ended' && l.reason === 'expired')).toBe(
      true,
    );
  });

  it('accepts an absolute InitialTerminationTime and answers a waiting pull when the subscription expires', async () => {
    const path = await r.subscribe('2026-12-06T04:00:05Z');
    await r.pull(path);
    const waiting = r.pull(path, 'PT30S');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(await waiting).toEqual([]);
    expect(r.events.subscriptionCount).toBe(0);
  });

  it('ends a subscription on Unsubscribe', async () => {
    const path = await r.subscribe();
    const reply = await r.call(path, 'Unsubscribe');
    expect(reply.body).toBe('<wsnt:UnsubscribeResponse/>');
    expect(r.events.subscriptionCount).toBe(0);
    await expect(r.call(path, 'Renew', { TerminationTime: 'PT10S' })).rejects.toBeInstanceOf(SoapFault);
  });

  it('refuses a sixth subscription, but makes room by cleaning expired ones', async () => {
    for (let i = 0; i < 5; i += 1) await r.subscribe('PT10S');
    await expect(r.subscribe('PT10S')).rejects.toMatchObject({ subcode: 'ter:TooManySubscriptions' });
    await vi.advanceTimersByTimeAsync(10_001);
    expect(r.events.subscriptionCount).toBe(0);
    await r.subscribe('PT10S');
    expect(r.events.subscriptionCount).toBe(1);
  });

  it('shortens a lifetime beyond an hour to an hour', async () => {
    const reply = await r.call('/onvif/events_service', 'CreatePullPointSubscription', {
      InitialTerminationTime: 'P10Y',
    });
    expect(reply.body).toContain('<wsnt:TerminationTime>2026-12-06T05:00:00Z</wsnt:TerminationTime>');
  });

  it.each([
    ['InitialTerminationTime', 'PT'],
    ['InitialTerminationTime', 'P'],
    ['InitialTerminationTime', '-PT10S'],
    ['InitialTerminationTime', 'PT0S'],
    ['InitialTerminationTime', '60'],
    ['InitialTerminationTime', `PT${'9'.repeat(400)}S`],
    ['InitialTerminationTime', 'PT1.S'],
    ['InitialTerminationTime', '2026-02-30T00:00:00Z'],
    ['InitialTerminationTime', '2026-12-06T03:59:59Z'],
    ['InitialTerminationTime', '2026-12-06T25:00:00Z'],
    ['InitialTerminationTime', { nested: 'PT10S' }],
  ])('refuses a bad %s %j with a Sender fault ter:InvalidArgVal', async (name, value) => {
    await expect(
      r.call('/onvif/events_service', 'CreatePullPointSubscription', { [name]: value }),
    ).rejects.toMatchObject({ code: 'Sender', subcode: 'ter:InvalidArgVal' });
    expect(r.events.subscriptionCount).toBe(0);
  });

  it.each([
    [{ Timeout: 'PT5X', MessageLimit: '1' }],
    [{ Timeout: 'soon', MessageLimit: '1' }],
    [{ Timeout: 'PT5S', MessageLimit: '-1' }],
    [{ Timeout: 'PT5S', MessageLimit: '1e9' }],
    [{ Timeout: 'PT5S', MessageLimit: '99999999999' }],
  ])('refuses a PullMessages with %j', async (body) => {
    const path = await r.subscribe();
    await expect(r.call(path, 'PullMessages', body)).rejects.toMatchObject({
      code: 'Sender',
      subcode: 'ter:InvalidArgVal',
    });
  });

  it('refuses unknown subscriptions and operations with faults', async () => {
    await expect(r.pull('/onvif/subscription/0123456789abcdef')).rejects.toMatchObject({
      subcode: 'ter:InvalidArgVal',
    });
    await expect(r.pull('/onvif/subscription/../../etc')).rejects.toBeInstanceOf(SoapFault);
    await expect(r.call('/onvif/events_service', 'Subscribe')).rejects.toMatchObject({
      subcode: 'ter:ActionNotSupported',
    });
    expect(r.events.handles('/onvif/events_service')).toBe(true);
    expect(r.events.handles('/onvif/subscription/x')).toBe(true);
    expect(r.events.handles('/onvif/device_service')).toBe(false);
  });
});
