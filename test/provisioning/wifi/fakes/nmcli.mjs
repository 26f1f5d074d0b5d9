#!/usr/bin/env node
// A stand-in for nmcli(1) (NetworkManager 1.42): the subcommands the agent uses, with nmcli's terse
// output (`\:` escaping), its messages and its exit codes (0 ok, 3 timeout, 4 activation failed,
// 10 no such connection). The radio is a JSON file (FAKE_NM_STATE); every call is appended to
// FAKE_NM_LOG with what it received, so a test can check the argv and the passwd-file.
import { randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const statePath = process.env.FAKE_NM_STATE;
const state = JSON.parse(readFileSync(statePath, 'utf8'));
const argv = process.argv.slice(2);
const record = { argv };

function save() {
  writeFileSync(statePath, JSON.stringify(state, null, 2));
}
function done(code, stdout = '', stderr = '') {
  appendFileSync(process.env.FAKE_NM_LOG, `${JSON.stringify({ ...record, code })}\n`);
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  process.exit(code);
}
const esc = (v) => String(v).replace(/\\/g, '\\\\').replace(/:/g, '\\:');
const row = (values) => `${values.map(esc).join(':')}\n`;

const args = [...argv];
let terse = false;
let fields;
let getValues;
let wait = 90;
while (args[0]?.startsWith('-')) {
  const flag = args.shift();
  if (flag === '-t') terse = true;
  else if (flag === '-f') fields = args.shift().split(',');
  else if (flag === '-g') getValues = args.shift().split(',');
  else if (flag === '--wait') wait = Number(args.shift());
  else done(2, '', `Error: Option '${flag}' is unknown, try 'nmcli -help'.\n`);
}
const active = () => state.connections.find((c) => c.active);
const byUuid = (uuid) => state.connections.find((c) => c.uuid === uuid);
const cmd = args.join(' ');

if (cmd.startsWith('device wifi list')) {
  if (!terse || !fields) done(2, '', 'this fake only speaks terse with fields\n');
  if (cmd.includes('--rescan yes') && state.busyScanning)
    done(1, '', 'Error: Scanning not allowed while already scanning.\n');
  const current = active();
  const lines = state.aps.map((ap) => {
    const value = {
      SSID: ap.ssid,
      BSSID: ap.bssid,
      CHAN: ap.chan,
      FREQ: `${ap.freq} MHz`,
      SIGNAL: ap.signal,
      SECURITY: ap.security,
      ACTIVE: current && current.ssid === ap.ssid ? 'yes' : 'no',
    };
    return row(fields.map((f) => value[f]));
  });
  done(0, lines.join(''));
}
if (cmd.startsWith('device show')) {
  const current = active();
  const values = current
    ? { 'GENERAL.STATE': '100 (connected)', 'IP4.ADDRESS[1]': '192.168.1.23/24' }
    : { 'GENERAL.STATE': '30 (disconnected)' };
  done(
    0,
    Object.entries(values)
      .filter(([k]) => fields.includes(k.replace('[1]', '')))
      .map(([k, v]) => `${k}:${v}\n`)
      .join(''),
  );
}
if (args[0] === 'connection' && args[1] === 'show' && getValues) {
  const c = byUuid(args[3]);
  if (!c) done(10, '', `Error: ${args[3]} - no such connection profile.\n`);
  done(0, `${esc(c.ssid)}\n`);
}
if (args[0] === 'connection' && args[1] === 'show') {
  const list = args.includes('--active') ? state.connections.filter((c) => c.active) : state.connections;
  const value = (c) => ({ NAME: c.name, UUID: c.uuid, TYPE: c.type, DEVICE: c.active ? state.device : '' });
  done(0, list.map((c) => row(fields.map((f) => value(c)[f]))).join(''));
}
if (args[0] === 'connection' && args[1] === 'add') {
  const props = {};
  for (let i = 2; i < args.length; i += 2) props[args[i]] = args[i + 1];
  if (props.type !== 'wifi' || !props.ssid)
    done(2, '', 'Error: 802-11-wireless.ssid: property is missing.\n');
  const c = {
    name: props['con-name'],
    uuid: randomUUID(),
    type: '802-11-wireless',
    ssid: props.ssid,
    secured: props['802-11-wireless-security.key-mgmt'] === 'wpa-psk',
    autoconnect: props.autoconnect !== 'no',
    active: false,
  };
  state.connections.push(c);
  save();
  done(0, `Connection '${c.name}' (${c.uuid}) successfully added.\n`);
}
if (args[0] === 'connection' && args[1] === 'modify') {
  const c = byUuid(args[3]);
  if (!c) done(10, '', `Error: unknown connection '${args[3]}'.\n`);
  if (args[4] === 'connection.autoconnect') c.autoconnect = args[5] === 'yes';
  save();
  done(0);
}
if (args[0] === 'connection' && args[1] === 'delete') {
  const c = byUuid(args[3]);
  if (!c)
    done(
      10,
      '',
      `Error: unknown connection '${args[3]}'.\n\nError: cannot delete unknown connection(s): 'uuid' '${args[3]}'.\n`,
    );
  state.connections = state.connections.filter((x) => x !== c);
  save();
  done(0, `Connection '${c.name}' (${c.uuid}) successfully deleted.\n`);
}
if (args[0] === 'connection' && args[1] === 'up') {
  const c = byUuid(args[3]);
  if (!c) done(10, '', `Error: unknown connection '${args[3]}'.\n`);
  let psk = c.psk;
  const fileAt = args.indexOf('passwd-file');
  if (fileAt >= 0) {
    const file = args[fileAt + 1];
    record.passwdFile = {
      mode: statSync(file).mode & 0o777,
      dirMode: statSync(dirname(file)).mode & 0o777,
      lines: readFileSync(file, 'utf8').split('\n'),
    };
    for (const line of record.passwdFile.lines) {
      const m = /^(802-11-wireless-security|wifi-sec)\.psk:(.*)$/.exec(line);
      if (m) psk = m[2];
    }
  }
  const hint = `Hint: use 'journalctl -xe NM_CONNECTION=${c.uuid} + NM_DEVICE=${state.device}' to get more details.\n`;
  const fail = (reason) => {
    for (const x of state.connections) x.active = false;
    save();
    done(4, '', `Error: Connection activation failed: ${reason}\n${hint}`);
  };
  const ap = state.aps.find((a) => a.ssid === c.ssid);
  if (!ap) fail('(53) The Wi-Fi network could not be found.');
  if (ap.hang) done(3, '', `Error: Timeout expired (${wait} seconds)\n`);
  if (c.secured && psk === undefined) {
    process.stdout.write(
      `Passwords or encryption keys are required to access the wireless network '${c.ssid}'.\n`,
    );
    process.stderr.write(
      "Warning: password for '802-11-wireless-security.psk' not given in 'passwd-file' and nmcli cannot ask without '--ask' option.\n",
    );
    fail('(7) Secrets were required, but not provided.');
  }
  if (c.secured && psk !== ap.psk) fail('(7) Secrets were required, but not provided.');
  if (ap.dhcp === false)
    fail('(5) IP configuration could not be reserved (no available address, timeout, etc.).');
  for (const x of state.connections) x.active = x === c;
  // NetworkManager keeps secrets an agent gave for a system-owned (flags 0) property.
  c.psk = psk;
  save();
  done(
    0,
    `Connection successfully activated (D-Bus active path: /org/freedesktop/NetworkManager/ActiveConnection/${state.connections.indexOf(c) + 3})\n`,
  );
}
done(2, '', `Error: argument '${args[0]}' not understood. Try passing --help instead.\n`);
