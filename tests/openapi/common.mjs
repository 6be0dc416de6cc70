// SPDX-License-Identifier: Apache-2.0
// Shared helpers for the OpenAPI checks: skip (exit 77) without node_modules, load the spec.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const specPath = join(root, 'openapi', 'openapi.yaml');

export function requireNodeModules(...pkgs) {
  for (const p of pkgs) {
    if (!existsSync(join(root, 'node_modules', p))) {
      console.log(`# SKIP node_modules/${p} is missing: run 'npm ci' in ${root}`);
      process.exit(77);
    }
  }
}

export async function loadSpec() {
  const { parse } = await import('yaml');
  return parse(readFileSync(specPath, 'utf8'));
}

export const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
