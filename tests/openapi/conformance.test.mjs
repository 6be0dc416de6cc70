// SPDX-License-Identifier: Apache-2.0
// Live conformance: start the real daemon on a temporary socket, exercise every operation
// (successes and errors) over http.request({socketPath}), and validate each status code,
// Content-Type, header and JSON body against openapi/openapi.yaml with Ajv (JSON Schema 2020-12).
// The daemon runs with --config-dir holding a profile, so that GET /1.0's config_dir, a
// profile with source "file", its 403s and the config-dir-* events are validated too.
// (Ephemeral containers need a real seccomp listener handed over SCM_RIGHTS, which node
// cannot send: the integration tests cover them.)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, readFileSync, unlinkSync,
  writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadSpec, requireNodeModules, METHODS } from './common.mjs';

requireNodeModules('ajv', 'ajv-formats', 'yaml');
const { default: Ajv2020 } = await import('ajv/dist/2020.js');
const { default: addFormats } = await import('ajv-formats');

const bin = process.env.INTERCEPTD_BIN;
if (!bin) {
  console.log('# SKIP INTERCEPTD_BIN is not set');
  process.exit(77);
}

const spec = await loadSpec();
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(spec, 'api');

const K = 'security.syscalls.intercept.';
const dir = mkdtempSync(join(tmpdir(), 'interceptd-openapi-'));
const sock = join(dir, 'api.sock');
const cfgDir = join(dir, 'config');
mkdirSync(cfgDir);
writeFileSync(join(cfgDir, 'profile.filep.json'), JSON.stringify({ config: { [`${K}mknod`]: 'true' } }));
const daemon = spawn(bin, ['--api-socket', sock, '--lxc-socket', join(dir, 'lxc.sock'),
  '--oci-socket', join(dir, 'oci.sock'), '--state-dir', join(dir, 'state'), '--workers', '1',
  '--config-dir', cfgDir],
{ stdio: ['ignore', 'pipe', 'pipe'] });
let log = '';
daemon.stdout.on('data', (d) => { log += d; });
daemon.stderr.on('data', (d) => { log += d; });

function request(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined
      : (typeof body === 'string' ? body : JSON.stringify(body));
    // large bodies wait for 100-continue: the server may answer 413 without reading them
    const expect = data !== undefined && data.length > 65536;
    const req = http.request({ socketPath: sock, method, path, headers: {
      ...(data !== undefined ? { 'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(data) } : {}),
      ...(expect ? { Expect: '100-continue' } : {}),
      ...headers,
    } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    if (expect) {
      req.on('continue', () => req.end(data));
    } else {
      if (data !== undefined) req.write(data);
      req.end();
    }
  });
}

// Map a concrete path to the spec's path template.
function template(path) {
  const p = path.split('?')[0];
  for (const t of Object.keys(spec.paths)) {
    const re = new RegExp(`^${t.replace(/\./g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (re.test(p)) return t;
  }
  return null;
}

const resolveRef = (o) => (o && o.$ref ? o.$ref.replace('#/', '').split('/')
  .reduce((acc, k) => acc[k], spec) : o);
const covered = new Set();

// Send a request and check the reply against the spec; returns the reply with .json.
async function check(method, path, body, headers, expectStatus) {
  const r = await request(method, path, body, headers);
  const t = template(path);
  assert.ok(t, `no spec path for ${path}`);
  const op = spec.paths[t][method.toLowerCase()];
  const where = `${method} ${path} → ${r.status}: ${r.text.slice(0, 300)}`;
  assert.equal(r.status, expectStatus, where);
  let resp = op ? op.responses[String(r.status)] : null;
  if (!op) resp = spec.components.responses.MethodNotAllowed; // method not in the spec: 405
  resp = resolveRef(resp);
  assert.ok(resp, `status ${r.status} not documented for ${method} ${t}`);
  const ctype = (r.headers['content-type'] || '').toLowerCase();
  const media = Object.keys(resp.content || {}).find((m) => m.toLowerCase() === ctype);
  assert.ok(media, `${where}: content-type '${ctype}' not documented`);
  if (media === 'application/json') {
    r.json = JSON.parse(r.text);
    const schema = resp.content[media].schema;
    const validate = ajv.compile({ $ref: `api${schema.$ref}` });
    assert.ok(validate(r.json), `${where}\n${ajv.errorsText(validate.errors)}`);
  }
  for (const [name, h] of Object.entries(resp.headers || {})) {
    const value = r.headers[name.toLowerCase()];
    if (resolveRef(h).required === false && value === undefined) continue;
    assert.ok(value !== undefined, `${where}: header ${name} missing`);
    const hs = resolveRef(h).schema;
    if (hs && hs.pattern) assert.match(value, new RegExp(hs.pattern), `${name}: ${value}`);
  }
  if (op) covered.add(`${method} ${t} ${r.status}`);
  return r;
}

// GET an event stream, run trigger() once its headers are in, and return its first event line.
function firstEvent(path, trigger) {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: sock, path }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
        const line = text.split('\n').find((l, i, all) => l !== '' && i < all.length - 1);
        if (line !== undefined) {
          req.destroy();
          resolve({ status: res.statusCode, headers: res.headers, line });
        }
      });
      trigger().catch(reject);
    });
    req.on('error', (e) => { if (e.code !== 'ECONNRESET') reject(e); });
  });
}

// The stream of @path conforms: documented status and content type, each line an Event.
async function checkEvents(path, trigger, expectType) {
  const r = await firstEvent(path, trigger);
  const op = spec.paths['/1.0/events'].get;
  assert.equal(r.status, 200);
  const media = Object.keys(op.responses['200'].content)
    .find((m) => m.toLowerCase() === (r.headers['content-type'] || '').toLowerCase());
  assert.ok(media, `GET ${path}: content-type '${r.headers['content-type']}' not documented`);
  const ev = JSON.parse(r.line);
  const validate = ajv.compile({ $ref: 'api#/components/schemas/Event' });
  assert.ok(validate(ev), `GET ${path}: ${r.line}\n${ajv.errorsText(validate.errors)}`);
  assert.equal(ev.type, expectType);
  covered.add(`GET /1.0/events ${r.status}`);
  return ev;
}

async function waitReady() {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    try {
      const r = await request('GET', '/1.0');
      if (r.status === 200) return;
    } catch { /* not yet listening */ }
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`daemon not ready:\n${log}`);
}

// GET /1.0 (validated) until its config_dir has errors (@wantErrors) or not, within 5 s.
async function configDirUntil(wantErrors) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const r = await check('GET', '/1.0', undefined, {}, 200);
    const status = r.json.metadata.config_dir;
    if ((status.errors.length > 0) === wantErrors || Date.now() > deadline) return status;
    await new Promise((res) => setTimeout(res, 25));
  }
}

// The config directory's shapes: its status, a profile from a file and its 403s, the events.
async function checkConfigDir() {
  const ok = await configDirUntil(false);
  assert.deepEqual(ok.profiles, ['filep']);
  assert.equal(ok.path, cfgDir);
  const fileProfile = await check('GET', '/1.0/profiles/filep', undefined, {}, 200);
  assert.equal(fileProfile.json.metadata.source, 'file');
  await check('GET', '/1.0/profiles/filep?recursion=1', undefined, {}, 200);
  await check('GET', '/1.0/profiles/filep?recursion=2', undefined, {}, 400);
  await check('PUT', '/1.0/profiles/filep', { config: {} }, {}, 403);
  await check('PATCH', '/1.0/profiles/filep', { config: {} }, {}, 403);
  await check('DELETE', '/1.0/profiles/filep', undefined, {}, 403);
  await check('POST', '/1.0/profiles', { name: 'filep', config: {} }, {}, 403);
  // a bad file: the reading is refused (an event per problem) and GET /1.0 lists why
  const refused = await checkEvents('/1.0/events?type=lifecycle', async () => {
    writeFileSync(join(cfgDir, '.tmp'), JSON.stringify({ config: { [`${K}mknod`]: 'maybe' } }));
    renameSync(join(cfgDir, '.tmp'), join(cfgDir, 'profile.bad.json'));
  }, 'lifecycle');
  assert.equal(refused.metadata.action, 'config-dir-refused');
  assert.equal(refused.metadata.file, 'profile.bad.json');
  const bad = await configDirUntil(true);
  assert.match(bad.errors[0], /profile\.bad\.json.*maybe/);
  const applied = await checkEvents('/1.0/events?type=lifecycle',
    async () => unlinkSync(join(cfgDir, 'profile.bad.json')), 'lifecycle');
  assert.equal(applied.metadata.action, 'config-dir-applied');
  assert.equal(applied.metadata.changed, 0);
  await configDirUntil(false);
}

test('live responses conform to openapi.yaml', async (t) => {
  t.after(async () => {
    // the daemon flushes its state on SIGTERM: remove the directory once it has exited
    const exited = new Promise((res) => (daemon.exitCode !== null ? res() : daemon.once('exit', res)));
    daemon.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  await waitReady();
  try {
    await check('GET', '/1.0', undefined, {}, 200);
    await check('GET', '/1.0/metadata/configuration', undefined, {}, 200);
    await checkConfigDir();
    await check('POST', '/1.0/containers', { name: 'c1', config: { [`${K}mknod`]: 'Yes', [`${K}mount.fuse`]: 'ext4=fuse2fs' } }, {}, 201);
    await check('POST', '/1.0/containers', { name: 'c1' }, {}, 409);
    await check('POST', '/1.0/containers', { name: 'c2', config: { [`${K}nope`]: '1' } }, {}, 400);
    await check('POST', '/1.0/containers', '{"name":', {}, 400);
    await check('POST', '/1.0/containers', { name: 'x', pad: ' '.repeat(1024 * 1024) }, {}, 413);
    await check('GET', '/1.0/containers', undefined, {}, 200);
    await check('GET', '/1.0/containers?recursion=1', undefined, {}, 200);
    await check('GET', '/1.0/containers?recursion=7', undefined, {}, 400);
    const got = await check('GET', '/1.0/containers/c1', undefined, {}, 200);
    await check('GET', '/1.0/containers/c1?recursion=1', undefined, {}, 200);
    await check('GET', '/1.0/containers/c1?recursion=2', undefined, {}, 400);
    await check('GET', '/1.0/containers/nope', undefined, {}, 404);
    await check('GET', '/1.0/containers/Bad!', undefined, {}, 400);
    await check('PUT', '/1.0/containers/c1', { config: { [`${K}sysinfo`]: 'true' } }, { 'If-Match': '"ffffffffffffffff"' }, 412);
    await check('PUT', '/1.0/containers/c1', { config: { [`${K}sysinfo`]: 'true' } }, { 'If-Match': got.headers.etag }, 200);
    await check('PUT', '/1.0/containers/c1', { config: 5 }, {}, 400);
    await check('PUT', '/1.0/containers/nope', { config: {} }, {}, 404);
    await check('PATCH', '/1.0/containers/c1', { config: { [`${K}sysinfo`]: null, [`${K}bpf`]: 'on' } }, { 'If-Match': '*' }, 200);
    await check('PATCH', '/1.0/containers/c1', { config: { [`${K}bpf`]: 'perhaps' } }, {}, 400);
    await check('PATCH', '/1.0/containers/nope', { config: {} }, {}, 404);
    await check('PATCH', '/1.0/containers/c1', { config: {} }, { 'If-Match': 'W/"x"' }, 412);
    await check('GET', '/1.0/containers/c1/state', undefined, {}, 200);
    await check('GET', '/1.0/containers/nope/state', undefined, {}, 404);
    await check('GET', '/1.0/containers/c1/seccomp?format=lxc', undefined, {}, 200);
    await check('GET', '/1.0/containers/c1/seccomp?format=oci', undefined, {}, 200);
    await check('GET', '/1.0/containers/c1/seccomp?format=x', undefined, {}, 400);
    await check('GET', '/1.0/containers/nope/seccomp?format=oci', undefined, {}, 404);
    const base = JSON.parse(readFileSync(new URL('../fixtures/seccomp_base.json', import.meta.url), 'utf8'));
    const merged = await check('POST', '/1.0/containers/c1/seccomp?format=oci', base, {}, 200);
    assert.match(merged.headers.warning, /299 interceptd "dropped 'flags'/);
    const quiet = await check('POST', '/1.0/containers/c1/seccomp?format=oci', { defaultAction: 'SCMP_ACT_ALLOW' }, {}, 200);
    assert.equal(quiet.headers.warning, undefined);
    await check('POST', '/1.0/containers/c1/seccomp?format=oci', { defaultAction: 'SCMP_ACT_ERRNO', archMap: [] }, {}, 400);
    await check('POST', '/1.0/containers/c1/seccomp?format=oci', '{"defaultAction":', {}, 400);
    await check('POST', '/1.0/containers/c1/seccomp?format=oci', { defaultAction: 'SCMP_ACT_ALLOW', pad: ' '.repeat(1024 * 1024) }, {}, 413);
    await check('POST', '/1.0/containers/nope/seccomp?format=oci', base, {}, 404);
    await check('POST', '/1.0/containers/c1/seccomp?format=oci&trap_denied=true', base, {}, 200);
    await check('POST', '/1.0/containers/c1/seccomp?format=oci&trap_denied=1', base, {}, 400);
    const created = await checkEvents('/1.0/events?type=lifecycle&container=ev',
      () => check('POST', '/1.0/containers', { name: 'ev', config: { [`${K}sysinfo`]: 'on' } }, {}, 201),
      'lifecycle');
    assert.equal(created.metadata.action, 'container-created');
    assert.deepEqual(created.metadata.changed_keys, [`${K}sysinfo`]);
    await checkEvents('/1.0/events', () => check('DELETE', '/1.0/containers/ev', undefined, {}, 200),
      'lifecycle');
    // a profile's own event: about no container, naming the profile
    const profEv = await checkEvents('/1.0/events?type=lifecycle',
      () => check('POST', '/1.0/profiles', { name: 'evp', config: { [`${K}mknod`]: 'on' } }, {}, 201),
      'lifecycle');
    assert.equal(profEv.metadata.action, 'profile-created');
    assert.equal(profEv.metadata.profile, 'evp');
    await checkEvents('/1.0/events', () => check('DELETE', '/1.0/profiles/evp', undefined, {}, 200),
      'lifecycle');
    await check('GET', '/1.0/events?type=nope', undefined, {}, 400);
    await check('GET', '/1.0/events?container=Bad!', undefined, {}, 400);
    const metrics = await check('GET', '/1.0/metrics', undefined, {}, 200);
    assert.match(metrics.text, /^interceptd_containers 1$/m);
    for (const [m, p] of [['DELETE', '/1.0'], ['POST', '/1.0/metrics'], ['PUT', '/1.0/containers'],
      ['POST', '/1.0/containers/c1'], ['DELETE', '/1.0/containers/c1/state'],
      ['PATCH', '/1.0/metadata/configuration'], ['PUT', '/1.0/containers/c1/seccomp'],
      ['DELETE', '/1.0/containers/c1/seccomp'], ['POST', '/1.0/events']]) {
      const r = await check(m, p, m === 'DELETE' ? undefined : {}, {}, 405);
      assert.ok(r.headers.allow, `${m} ${p}: Allow missing`);
    }
    await check('DELETE', '/1.0/containers/c1', undefined, { 'If-Match': '"0000000000000000"' }, 412);
    await check('DELETE', '/1.0/containers/c1', undefined, {}, 200);
    await check('DELETE', '/1.0/containers/c1', undefined, {}, 404);
    // profiles, and a container applying one
    await check('POST', '/1.0/profiles', { name: 'p1', config: { [`${K}sysinfo`]: 'true' } }, {}, 201);
    await check('POST', '/1.0/profiles', { name: 'p1' }, {}, 409);
    await check('POST', '/1.0/profiles', { name: 'p2', profiles: ['p1'] }, {}, 400);
    await check('GET', '/1.0/profiles', undefined, {}, 200);
    await check('GET', '/1.0/profiles?recursion=1', undefined, {}, 200);
    await check('GET', '/1.0/profiles?recursion=2', undefined, {}, 400);
    const prof = await check('GET', '/1.0/profiles/p1', undefined, {}, 200);
    await check('GET', '/1.0/profiles/nope', undefined, {}, 404);
    await check('PUT', '/1.0/profiles/p1', { config: { [`${K}mknod`]: 'true' } }, { 'If-Match': '"ffffffffffffffff"' }, 412);
    await check('PUT', '/1.0/profiles/p1', { config: { [`${K}mount.allowed`]: 'ext4' } }, { 'If-Match': prof.headers.etag }, 200);
    await check('POST', '/1.0/containers', { name: 'c3', profiles: ['p1'], config: { [`${K}mknod`]: 'true' } }, {}, 201);
    await check('POST', '/1.0/containers', { name: 'c4', profiles: ['nope'] }, {}, 400);
    await check('GET', '/1.0/containers/c3', undefined, {}, 200);
    await check('PATCH', '/1.0/containers/c3', { profiles: [] }, {}, 200);
    await check('PUT', '/1.0/containers/c3', { profiles: ['p1'] }, {}, 200);
    await check('PATCH', '/1.0/profiles/p1', { config: { [`${K}mount.fuse`]: 'ext4=fuse2fs' } }, {}, 400);
    await check('PATCH', '/1.0/profiles/p1', { config: { [`${K}sysinfo`]: null } }, {}, 200);
    await check('GET', '/1.0/profiles/p1/seccomp?format=lxc', undefined, {}, 200);
    await check('GET', '/1.0/profiles/p1/seccomp?format=oci', undefined, {}, 200);
    await check('GET', '/1.0/profiles/p1/seccomp?format=x', undefined, {}, 400);
    await check('POST', '/1.0/profiles/p1/seccomp?format=oci&trap_denied=false', base, {}, 200);
    await check('POST', '/1.0/profiles/p1/seccomp?format=lxc', base, {}, 400);
    await check('POST', '/1.0/profiles/nope/seccomp?format=oci', base, {}, 404);
    await check('DELETE', '/1.0/profiles/p1', undefined, {}, 409);
    await check('DELETE', '/1.0/containers/c3', undefined, {}, 200);
    await check('DELETE', '/1.0/profiles/p1', undefined, { 'If-Match': '"0000000000000000"' }, 412);
    await check('DELETE', '/1.0/profiles/p1', undefined, {}, 200);
    await check('DELETE', '/1.0/profiles/p1', undefined, {}, 404);
  } catch (e) {
    console.error(`# daemon log:\n${log}`);
    throw e;
  }
  // every operation of the spec was exercised with a 2xx
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const m of METHODS) {
      if (!item[m]) continue;
      const ok = [...covered].some((c) => c.startsWith(`${m.toUpperCase()} ${path} 2`));
      assert.ok(ok, `${m.toUpperCase()} ${path} was not exercised successfully`);
    }
  }
});
