// src/api/schema.ts is generated from the server's OpenAPI document; this fails when the two differ,
// so `make test` (which runs jest) catches an openapi.json changed without regenerating the types.
import { spawnSync } from 'child_process';
import { join } from 'path';

const LABEXTENSION = join(__dirname, '..');

describe('src/api/schema.ts', () => {
  it('is what `jlpm generate:api` makes of jupyter_artifacts/server/openapi.json', () => {
    // The same command and options as the package script, with openapi-typescript's own --check.
    const script: string = require('../package.json').scripts['generate:api'];
    const [command, ...args] = script.split(/\s+/);
    expect(command).toBe('openapi-typescript');
    const cli = join(LABEXTENSION, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
    const result = spawnSync(process.execPath, [cli, ...args, '--check'], {
      cwd: LABEXTENSION,
      encoding: 'utf-8',
      timeout: 60_000
    });
    const output = `${result.stdout}${result.stderr}`;
    if (result.status !== 0) {
      throw new Error(
        'src/api/schema.ts does not match jupyter_artifacts/server/openapi.json: run ' +
          '`cd labextension && jlpm generate:api` and commit the result.\n' +
          output
      );
    }
  });
});
