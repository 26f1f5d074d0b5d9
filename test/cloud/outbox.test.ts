import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentInProcess } from '../helpers/agent.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';

describe('event outbox across a broker outage', () => {
  let broker: Mosquitto;

  beforeAll(async () => {
    broker = await Mosquitto.start();
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('delivers 100 events raised while the broker was down, once each and in order', async () => {
    const { agent, serial } = await startAgentInProcess({ url: broker.url });
    // A persistent session, so the cloud's side misses nothing while the broker restarts.
    const cloud = await Observer.connect(broker.url, [`cam/v1/${serial}/evt/#`], {
      clean: false,
      clientId: `cloud-${serial}`,
      properties: { sessionExpiryInterval: 600 },
    });
    expect(agent.link.connected).toBe(true);

    await broker.pause();
    for (let i = 0; i < 100; i += 1) await agent.events.raise('motion', { n: i });
    expect(agent.events.pending).toBe(100);
    await broker.resume();

    await cloud.waitFor(() => cloud.seen.length >= 100, '100 events', 20000);
    const bodies = cloud.seen.map((m) => m.json<{ n: number; seq: number; eventId: string; ts: number }>());
    expect(bodies.map((b) => b.n)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(new Set(bodies.map((b) => b.eventId)).size).toBe(100);
    const seqs = bodies.map((b) => b.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(cloud.seen.every((m) => m.topic === `cam/v1/${serial}/evt/motion`)).toBe(true);
    // One more live event: anything duplicated by the outage would have arrived before it.
    await agent.events.raise('motion', { n: 100 });
    await cloud.waitFor((m) => m.json<{ n: number }>().n === 100, 'event 100');
    expect(cloud.seen).toHaveLength(101);
    // stop() waits for delivery in flight; every acknowledged event has left the disk queue.
    await agent.lifecycle.stop();
    expect(agent.events.pending).toBe(0);
    await cloud.close();
  });

  it('keeps undelivered events on disk across a restart of the agent and sends them after it', async () => {
    const first = await startAgentInProcess({ url: 'mqtt://127.0.0.1:1' });
    for (let i = 0; i < 5; i += 1) await first.agent.events.raise('button', { n: i });
    await first.agent.lifecycle.stop();
    expect(first.agent.events.pending).toBe(5);

    const cloud = await Observer.connect(broker.url, [`cam/v1/${first.serial}/evt/#`]);
    const second = await startAgentInProcess({ url: broker.url }, first);
    await cloud.waitFor(() => cloud.seen.length >= 5, 'five stored events');
    expect(cloud.seen.map((m) => m.json<{ n: number }>().n)).toEqual([0, 1, 2, 3, 4]);
    await second.agent.lifecycle.stop();
    await cloud.close();
  });
});
