// SPDX-License-Identifier: Apache-2.0
// The router table (printed by the dump_routes tool linked with the core) and the spec's
// paths × methods must agree route for route.
import { execFileSync } from 'node:child_process';
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadSpec, requireNodeModules, METHODS } from './common.mjs';

requireNodeModules('yaml');

test('router table and OpenAPI paths agree', async () => {
  const bin = process.env.DUMP_ROUTES_BIN;
  assert.ok(bin, 'DUMP_ROUTES_BIN must be set');
  const router = execFileSync(bin, { encoding: 'utf8' })
    .trim().split('\n').map((l) => l.trim()).sort();
  const spec = await loadSpec();
  const documented = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const m of METHODS) if (item[m]) documented.push(`${m.toUpperCase()} ${path}`);
  }
  documented.sort();
  assert.ok(router.length >= 11, `router printed ${router.length} routes`);
  assert.deepEqual(router, documented);
});

test('every operation documents 405 with Allow, and writes document 403', async () => {
  const spec = await loadSpec();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const m of METHODS) {
      if (!item[m]) continue;
      const codes = Object.keys(item[m].responses);
      assert.ok(codes.includes('405'), `${m} ${path} lacks 405`);
      if (m !== 'get') assert.ok(codes.includes('403'), `${m} ${path} lacks 403`);
    }
  }
});
