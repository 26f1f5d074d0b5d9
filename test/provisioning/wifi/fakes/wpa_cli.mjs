#!/usr/bin/env node
// A stand-in for wpa_cli v2.10 talking to a wpa_supplicant whose radio is a JSON file (FAKE_WPA_STATE).
// Without a command it runs interactive mode the way the real one does on a pipe: banner, `> ` prompts,
// the typed line echoed, events drawn as `> \r<3>CTRL-EVENT-...`. Every invocation and every line it
// read is appended to FAKE_WPA_LOG.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const statePath = process.env.FAKE_WPA_STATE;
const logPath = process.env.FAKE_WPA_LOG;
const load = () => JSON.parse(readFileSync(statePath, 'utf8'));
const save = (s) => writeFileSync(statePath, JSON.stringify(s, null, 2));
const log = (entry) => appendFileSync(logPath, `${JSON.stringify(entry)}\n`);

const argv = process.argv.slice(2);
const args = [...argv];
// -i <iface> and -p <ctrl dir> take a value; this radio has one interface.
while (args[0]?.startsWith('-')) {
  const flag = args.shift();
  if (flag === '-i' || flag === '-p') args.shift();
}
log({ argv });

// wpa_supplicant's printf_encode, used for SSIDs in its replies.
function encode(text) {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    if (b === 0x5c) out += '\\\\';
    else if (b === 0x22) out += '\\"';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}
function parseValue(value) {
  if (value.startsWith('"')) return value.slice(1, value.lastIndexOf('"'));
  if (/^([0-9a-f]{2})+$/i.test(value) && value.length !== 64)
    return Buffer.from(value, 'hex').toString('utf8');
  return value;
}

function command(line, emit) {
  const s = load();
  const [name = '', ...rest] = line.trim().split(' ');
  switch (name.toLowerCase()) {
    case 'ping':
      return 'PONG';
    case 'scan':
      // A scan already running answers FAIL-BUSY, and its results still arrive.
      if (!s.scanning) setTimeout(() => emit('CTRL-EVENT-SCAN-STARTED '), 5);
      setTimeout(() => emit('CTRL-EVENT-SCAN-RESULTS '), 30);
      return s.scanning ? 'FAIL-BUSY' : 'OK';
    case 'scan_results':
      return [
        'bssid / frequency / signal level / flags / ssid',
        ...s.aps.map((a) => `${a.bssid}\t${a.freq}\t${a.level}\t${a.flags}\t${encode(a.ssid)}`),
      ].join('\n');
    case 'list_networks':
      return [
        'network id / ssid / bssid / flags',
        ...s.networks.map(
          (n) =>
            `${n.id}\t${encode(n.ssid ?? '')}\tany\t${n.id === s.current ? '[CURRENT]' : n.disabled ? '[DISABLED]' : ''}`,
        ),
      ].join('\n');
    case 'add_network': {
      const id = s.nextId++;
      s.networks.push({ id, disabled: true });
      save(s);
      setTimeout(() => emit(`CTRL-EVENT-NETWORK-ADDED ${id}`), 1);
      return String(id);
    }
    case 'set_network': {
      const [id, key] = rest;
      const value = line.trim().split(' ').slice(3).join(' ');
      const n = s.networks.find((x) => x.id === Number(id));
      if (!n) return 'FAIL';
      if (key === 'psk' && value.startsWith('"') && !/^"[\x20-\x7e]{8,63}"$/.test(value)) return 'FAIL';
      n[key] = parseValue(value);
      save(s);
      return 'OK';
    }
    case 'remove_network': {
      const before = s.networks.length;
      s.networks = s.networks.filter((x) => x.id !== Number(rest[0]));
      if (s.current === Number(rest[0])) {
        s.current = undefined;
        s.ip = undefined;
      }
      save(s);
      return s.networks.length < before ? 'OK' : 'FAIL';
    }
    case 'enable_network':
      for (const n of s.networks) if (rest[0] === 'all' || n.id === Number(rest[0])) n.disabled = false;
      save(s);
      return 'OK';
    case 'select_network': {
      const n = s.networks.find((x) => x.id === Number(rest[0]));
      if (!n) return 'FAIL';
      for (const x of s.networks) x.disabled = x !== n;
      s.current = undefined;
      s.ip = undefined;
      save(s);
      setTimeout(() => join(n, emit), 20);
      return 'OK';
    }
    case 'save_config':
      s.saved = s.networks.map((n) => ({ ssid: n.ssid, psk: n.psk, key_mgmt: n.key_mgmt }));
      save(s);
      return 'OK';
    case 'status': {
      const n = s.networks.find((x) => x.id === s.current);
      const lines = n
        ? [
            `bssid=${s.aps.find((a) => a.ssid === n.ssid)?.bssid}`,
            `ssid=${encode(n.ssid)}`,
            `id=${n.id}`,
            'mode=station',
            'wpa_state=COMPLETED',
          ]
        : ['wpa_state=SCANNING'];
      if (n && s.ip) lines.push(`ip_address=${s.ip}`);
      lines.push('address=02:11:22:33:44:55');
      return lines.join('\n');
    }
    case 'signal_poll':
      return s.current === undefined ? 'FAIL' : 'RSSI=-52\nLINKSPEED=65\nNOISE=9999\nFREQUENCY=2437';
    default:
      return 'UNKNOWN COMMAND';
  }
}

// What wpa_supplicant does after select_network, told as the events it sends.
function join(n, emit) {
  const ap = load().aps.find((a) => a.ssid === n.ssid);
  if (!ap) {
    let left = 20;
    const tick = setInterval(() => {
      emit('CTRL-EVENT-SCAN-STARTED ');
      emit('CTRL-EVENT-SCAN-RESULTS ');
      emit('CTRL-EVENT-NETWORK-NOT-FOUND');
      if (--left === 0) clearInterval(tick);
    }, 15);
    return;
  }
  if (ap.hang) return;
  emit(`Trying to associate with ${ap.bssid} (SSID='${n.ssid}' freq=${ap.freq} MHz)`);
  const secured = n.key_mgmt !== 'NONE';
  if (secured && n.psk !== ap.psk) {
    emit(`Associated with ${ap.bssid}`);
    emit(`CTRL-EVENT-DISCONNECTED bssid=${ap.bssid} reason=15`);
    emit(
      `CTRL-EVENT-SSID-TEMP-DISABLED id=${n.id} ssid="${encode(n.ssid)}" auth_failures=1 duration=10 reason=WRONG_KEY`,
    );
    return;
  }
  emit(`Associated with ${ap.bssid}`);
  const s = load();
  s.current = n.id;
  save(s);
  emit(`CTRL-EVENT-CONNECTED - Connection to ${ap.bssid} completed [id=${n.id} id_str=]`);
  if (ap.dhcp !== false) {
    setTimeout(() => {
      const t = load();
      t.ip = '192.168.1.42';
      save(t);
    }, 40);
  }
}

if (args.length > 0) {
  const reply = command(args.join(' '), () => {});
  process.stdout.write(`${reply}\n`);
  process.exit(0);
}

process.stdout.write(
  'wpa_cli v2.10\nCopyright (c) 2004-2022, Jouni Malinen <j@w1.fi> and contributors\n\nThis software may be distributed under the terms of the BSD license.\nSee README for more details.\n\n\n\nInteractive mode\n\n> ',
);
const emit = (event) => process.stdout.write(`\r<3>${event}\n> `);
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  log({ stdin: line });
  process.stdout.write(`${line}\n${command(line, emit)}\n> `);
});
rl.on('close', () => {
  process.stdout.write('\r\x1b[K');
  process.exit(0);
});
