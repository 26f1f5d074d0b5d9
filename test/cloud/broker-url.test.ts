import { describe, expect, it } from 'vitest';
import { brokerOptions } from '../../src/cloud/broker-url.js';

describe('a broker URL as mqtt.js options', () => {
  it.each([
    ['mqtts://cloud.example.com:8883', { protocol: 'mqtts', hostname: 'cloud.example.com', port: 8883 }],
    ['mqtt://127.0.0.1', { protocol: 'mqtt', hostname: '127.0.0.1' }],
    ['mqtt://[::1]:1883', { protocol: 'mqtt', hostname: '::1', port: 1883 }],
    ['ws://127.0.0.1:9001/mqtt', { protocol: 'ws', hostname: '127.0.0.1', port: 9001, path: '/mqtt' }],
    [
      'wss://broker.example.com/mqtt?x=1',
      { protocol: 'wss', hostname: 'broker.example.com', path: '/mqtt?x=1' },
    ],
    ['wss://broker.example.com', { protocol: 'wss', hostname: 'broker.example.com', path: '/' }],
    ['mqtt://ha%20user:p%40ss@192.168.1.5:1883', { username: 'ha user', password: 'p@ss', port: 1883 }],
  ])('%s', (url, expected) => {
    const options = brokerOptions(url);
    expect(options).toMatchObject(expected);
    expect(options.host).toBe(options.hostname);
    if (!('port' in expected)) expect(options.port).toBeUndefined();
    if (!('path' in expected)) expect(options.path).toBeUndefined();
  });

  it.each([
    ['http://example.com', /unsupported scheme "http"/],
    ['mqtts://[', /Invalid URL/],
    ['not a url', /Invalid URL/],
  ])('refuses %s', (url, error) => {
    expect(() => brokerOptions(url)).toThrow(error);
  });
});
