/**
 * The import boundaries of .dependency-cruiser.js (run by `npm test` as `npm run boundaries`)
 * catch bad imports: a throwaway tree with one import across each boundary, cruised with the
 * project's rules, must report every one of them and nothing that is allowed.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const DEPCRUISE = path.join(ROOT, 'node_modules', '.bin', 'depcruise');

/** file -> the modules it imports */
const TREE: Record<string, string[]> = {
  'src/domain/a.ts': ['../query/b'],
  'src/query/b.ts': ['../engines/duckdb/c'],
  'src/engines/duckdb/c.ts': ['../../services/d', '../../query/ok'],
  'src/services/d.ts': ['../graphql/e', '../query/ok'],
  'src/graphql/e.ts': ['../services/ok'],
  'src/services/ok.ts': ['../query/ok', '../domain/ok'],
  'src/query/ok.ts': ['../domain/ok'],
  'src/domain/ok.ts': [],
  'src/trail/f.ts': ['../engines/duckdb/c'],
  'src/web/g.ts': ['../../web/src/h'],
  'web/src/h.ts': ['../../src/domain/ok'],
  'src/x.ts': ['../test/support/t'],
  'test/support/t.ts': [],
};

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

test('every boundary rule reports its bad import, and allowed imports pass', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-boundaries-'));
  try {
    for (const [file, imports] of Object.entries(TREE)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), `${imports.map((m, i) => `import * as m${i} from '${m}';\nvoid m${i};\n`).join('')}export const here = 1;\n`);
    }
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'commonjs', strict: true } }));
    let out = '';
    try {
      out = execFileSync(DEPCRUISE, ['src', 'web/src', '--config', path.join(ROOT, '.dependency-cruiser.js'), '--output-type', 'json'], { cwd: dir, encoding: 'utf8' });
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? '');
    }
    const violations = (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations
      .map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)
      .sort();
    expect(violations).toEqual(
      [
        'browser-not-service: web/src/h.ts -> src/domain/ok.ts',
        'domain-stands-alone: src/domain/a.ts -> src/query/b.ts',
        'engines-below-services: src/engines/duckdb/c.ts -> src/services/d.ts',
        'not-to-tests: src/x.ts -> test/support/t.ts',
        'query-knows-no-engine: src/query/b.ts -> src/engines/duckdb/c.ts',
        'service-not-browser: src/web/g.ts -> web/src/h.ts',
        'services-below-graphql: src/services/d.ts -> src/graphql/e.ts',
        'trail-is-engine-free: src/trail/f.ts -> src/engines/duckdb/c.ts',
      ].sort(),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
