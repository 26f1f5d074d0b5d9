import { afterAll, beforeAll } from 'vitest';
import { Mosquitto } from './mosquitto.js';
import { Observer } from './observer.js';

export interface BrokerFixture {
  broker: Mosquitto;
  observer: Observer;
}

/**
 * A real Mosquitto for the suite and the cloud's observer on it, filled in before the first test and
 * stopped after the last.
 */
export function useBroker(
  filters: string[] = ['cam/v1/#'],
  options: Parameters<typeof Mosquitto.start>[0] = {},
): BrokerFixture {
  const fixture = {} as BrokerFixture;
  beforeAll(async () => {
    fixture.broker = await Mosquitto.start(options);
    fixture.observer = await Observer.connect(fixture.broker.url, filters);
  });
  afterAll(async () => {
    await fixture.observer?.close();
    await fixture.broker?.stop();
  });
  return fixture;
}
