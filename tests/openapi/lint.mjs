// SPDX-License-Identifier: Apache-2.0
// Lint openapi/openapi.yaml with @redocly/cli (recommended rules); any error or warning fails.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import test from 'node:test';
import assert from 'node:assert/strict';
import { root, specPath, requireNodeModules } from './common.mjs';

requireNodeModules('@redocly/cli', 'yaml');

test('redocly lint: no errors and no warnings', () => {
  const bin = join(root, 'node_modules', '.bin', 'redocly');
  const r = spawnSync(bin, ['lint', '--format=stylish', specPath], {
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', NO_COLOR: '1' },
  });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  assert.doesNotMatch(out, /You have \d+ warnings?/, out);
  assert.match(out, /Your API description is valid/, out);
});
