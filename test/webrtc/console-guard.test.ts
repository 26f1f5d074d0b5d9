import { describe, expect, it } from 'vitest';
import { consoleGuard } from '../../src/console/guard.js';
import { wsRefusal } from '../../src/sim/broker.js';

describe("the console's Host and Origin rule", () => {
  const guard = consoleGuard('127.0.0.1', () => 8080);
  const cases: [string | undefined, string | undefined, string | undefined][] = [
    ['127.0.0.1:8080', undefined, undefined],
    ['localhost:8080', 'http://localhost:8080', undefined],
    ['[::1]:8080', 'http://[::1]:8080', undefined],
    ['LOCALHOST:8080', 'http://127.0.0.1:8080', undefined],
    [undefined, undefined, 'host'],
    ['127.0.0.1', undefined, 'host'],
    ['127.0.0.1:8081', undefined, 'host'],
    ['evil.example:8080', undefined, 'host'],
    ['127.0.0.1.evil.example:8080', undefined, 'host'],
    ['127.0.0.1:8080', 'http://evil.example', 'origin'],
    ['127.0.0.1:8080', 'http://127.0.0.1:9999', 'origin'],
    ['127.0.0.1:8080', 'https://127.0.0.1:8080', 'origin'],
    ['127.0.0.1:8080', 'null', 'origin'],
    ['127.0.0.1:8080', 'file://', 'origin'],
    ['127.0.0.1:8080', '', 'origin'],
  ];
  it.each(cases)('Host %s, Origin %s: %s', (host, origin, refusal) => {
    expect(guard.refusal({ host, origin })).toBe(refusal);
  });

  it('names the configured host too, and leaves out port 80 as browsers do', () => {
    const lan = consoleGuard('192.168.1.20', () => 80);
    expect(lan.refusal({ host: '192.168.1.20', origin: 'http://192.168.1.20' })).toBeUndefined();
    expect(lan.refusal({ host: 'localhost:80' })).toBeUndefined();
    expect(consoleGuard('0.0.0.0', () => 8080).refusal({ host: '0.0.0.0:8080' })).toBe('host');
  });
});

describe("the embedded broker's WebSocket rule", () => {
  it.each([
    ['127.0.0.1:8083', undefined, undefined],
    ['[::1]:8083', 'http://localhost:3000', undefined],
    ['127.0.0.1:8083', 'http://evil.example', 'origin'],
    ['127.0.0.1:8083', 'null', 'origin'],
    ['evil.example:8083', undefined, 'host'],
    ['127.0.0.1:9999', undefined, 'host'],
    [undefined, undefined, 'host'],
  ])('Host %s, Origin %s: %s', (host, origin, refusal) => {
    expect(wsRefusal(host, origin, 8083)).toBe(refusal);
  });
});
