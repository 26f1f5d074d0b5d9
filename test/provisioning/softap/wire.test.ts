import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCloudBindCommand } from '../../../src/provisioning/softap/proto/cloud-bind.js';
import { decodeSessionCommand, encodeResponse0 } from '../../../src/provisioning/softap/proto/session.js';
import {
  decodeWiFiConfigCommand,
  encodeRespGetStatus,
} from '../../../src/provisioning/softap/proto/wifi-config.js';
import { decodeWiFiCtrlCommand } from '../../../src/provisioning/softap/proto/wifi-ctrl.js';
import {
  decodeWiFiScanCommand,
  encodeRespScanResult,
} from '../../../src/provisioning/softap/proto/wifi-scan.js';
import { decodeFields, ProtobufError, Writer } from '../../../src/provisioning/softap/proto/wire.js';
import { sessionCommand0 } from './client/client.js';
import { pbBytes, pbDecode, pbEncode, pbInt, pbSub } from './client/pb.js';

describe('protobuf wire codec', () => {
  it('round-trips varints, negative int32, bytes and nested messages', () => {
    const inner = new Writer().varint(1, 300).finish();
    const buf = new Writer().varint(1, 5).varint(3, -67).bytes(4, 'héllo').message(10, inner).finish();
    // -67 as int32 is ten bytes on the wire, as protoc writes it.
    expect(Buffer.from(buf).toString('hex')).toBe(
      '0805' + '18bdffffffffffffffff01' + '220668c3a96c6c6f' + '5203' + '08ac02',
    );
    const fields = decodeFields(buf);
    expect(fields.uint32(1)).toBe(5);
    expect(fields.int32(3)).toBe(-67);
    expect(Buffer.from(fields.bytes(4)).toString()).toBe('héllo');
    expect(decodeFields(fields.bytes(10)).uint32(1)).toBe(300);
    expect(fields.uint32(99)).toBe(0);
  });

  it('leaves proto3 defaults off the wire but always writes oneof members', () => {
    expect(new Writer().varint(1, 0).bytes(2, '').finish().length).toBe(0);
    expect(
      Buffer.from(new Writer().oneofVarint(10, 0).message(11, new Uint8Array(0)).finish()).toString('hex'),
    ).toBe('50005a00');
  });

  it('settles a oneof by the member that came last, and skips unknown fields', () => {
    const buf = Buffer.concat([
      new Writer().message(10, new Uint8Array(0)).finish(),
      Buffer.from('9d0101020304', 'hex'), // field 19, fixed32
      new Writer().message(12, new Uint8Array(0)).finish(),
    ]);
    expect(decodeFields(buf).oneof([10, 11, 12])).toBe(12);
  });

  it('refuses malformed input with ProtobufError', () => {
    for (const hex of [
      '08',
      '0a05aa',
      '0b',
      '0c00',
      '00',
      'ffffffffffffffffffff7f',
      '08ffffffffffffffffff02',
      '0d0102',
    ]) {
      expect(() => decodeFields(Buffer.from(hex, 'hex')), hex).toThrow(ProtobufError);
    }
    expect(() => decodeFields(Buffer.from('0a00', 'hex')).uint32(1)).toThrow(ProtobufError);
  });

  it('is read the same by the test client: scan results and status', () => {
    const scan = encodeRespScanResult(0, [
      {
        ssid: Buffer.from('HomeNet'),
        channel: 6,
        rssi: -41,
        bssid: Buffer.from('aabbcc001122', 'hex'),
        auth: 3,
      },
    ]);
    const decoded = pbDecode(scan);
    const entry = pbDecode(pbSub(decoded, 15)?.blobs.get(1)?.[0] ?? Buffer.alloc(0));
    expect(pbInt(decoded, 1)).toBe(5);
    expect(pbInt(entry, 3)).toBe(-41);
    expect(pbBytes(entry, 1)?.toString()).toBe('HomeNet');

    const failed = pbDecode(encodeRespGetStatus(0, { state: 'failed', reason: 0 }));
    const resp = pbSub(failed, 11);
    expect(resp && pbInt(resp, 2)).toBe(3);
    // fail_reason AuthError is 0, yet present: it is a oneof member.
    expect(resp?.ints.has(10)).toBe(true);

    const r0 = pbDecode(encodeResponse0(0, Buffer.alloc(384, 1), Buffer.alloc(16, 2)));
    expect(pbInt(r0, 2)).toBe(2);
  });

  it('decodes what the test client encodes', () => {
    const cmd0 = sessionCommand0('wifiprov', Buffer.alloc(384, 7));
    const command = decodeSessionCommand(cmd0);
    expect(command.type).toBe('command0');
    const set = pbEncode([
      [1, 'int', 2],
      [
        12,
        'msg',
        [
          [1, 'bytes', 'Net'],
          [2, 'bytes', 'pw'],
          [4, 'int', -1],
        ],
      ],
    ]);
    expect(decodeWiFiConfigCommand(set)).toMatchObject({ msg: 2, channel: -1 });
  });

  it('every decoder either returns or throws ProtobufError, whatever the bytes', () => {
    const decoders = [
      decodeSessionCommand,
      decodeWiFiConfigCommand,
      decodeWiFiScanCommand,
      decodeWiFiCtrlCommand,
      decodeCloudBindCommand,
    ];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(decoders.length - 1), (bytes, which) => {
        try {
          decoders[which]?.(bytes);
        } catch (err) {
          if (!(err instanceof ProtobufError)) throw err;
        }
      }),
      { numRuns: 5000 },
    );
  });
});
